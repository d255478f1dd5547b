using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;

namespace Seccm.Glovebox;

/// <summary>Registers the glovebox service.</summary>
public static class GloveboxServiceExtensions
{
    /// <summary>Adds the glovebox service: its MQTT connection, retained status and commands.</summary>
    public static IHostApplicationBuilder AddGloveboxService(this IHostApplicationBuilder builder)
    {
        builder.AddServiceBus(ServiceNames.Glovebox);
        builder.Services.AddHostedService(sp => new GloveboxWorker(sp.GetRequiredKeyedService<MqttBus>(ServiceNames.Glovebox)));
        return builder;
    }
}

/// <summary>Answers the glovebox service's commands.</summary>
internal sealed class GloveboxWorker(MqttBus bus) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => bus.ListenForCommandsAsync();
}
