using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;

namespace Seccm.Diffusion;

/// <summary>Registers the diffusion service.</summary>
public static class DiffusionServiceExtensions
{
    /// <summary>Adds the diffusion service: its MQTT connection, retained status and commands.</summary>
    public static IHostApplicationBuilder AddDiffusionService(this IHostApplicationBuilder builder)
    {
        builder.AddServiceBus(ServiceNames.Diffusion);
        builder.Services.AddHostedService(sp => new DiffusionWorker(sp.GetRequiredKeyedService<MqttBus>(ServiceNames.Diffusion)));
        return builder;
    }
}

/// <summary>Answers the diffusion service's commands.</summary>
internal sealed class DiffusionWorker(MqttBus bus) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => bus.ListenForCommandsAsync();
}
