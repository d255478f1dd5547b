using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;

namespace Seccm.Potentiostat;

/// <summary>Registers the potentiostat service.</summary>
public static class PotentiostatServiceExtensions
{
    /// <summary>Adds the potentiostat service: its MQTT connection, retained status and commands.</summary>
    public static IHostApplicationBuilder AddPotentiostatService(this IHostApplicationBuilder builder)
    {
        builder.AddServiceBus(ServiceNames.Potentiostat);
        builder.Services.AddHostedService(sp => new PotentiostatWorker(sp.GetRequiredKeyedService<MqttBus>(ServiceNames.Potentiostat)));
        return builder;
    }
}

/// <summary>Answers the potentiostat service's commands.</summary>
internal sealed class PotentiostatWorker(MqttBus bus) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => bus.ListenForCommandsAsync();
}
