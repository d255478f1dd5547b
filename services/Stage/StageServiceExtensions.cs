using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;

namespace Seccm.Stage;

/// <summary>Registers the stage service.</summary>
public static class StageServiceExtensions
{
    /// <summary>Adds the stage service: its MQTT connection, retained status and commands.</summary>
    public static IHostApplicationBuilder AddStageService(this IHostApplicationBuilder builder)
    {
        builder.AddServiceBus(ServiceNames.Stage);
        builder.Services.AddHostedService(sp => new StageWorker(sp.GetRequiredKeyedService<MqttBus>(ServiceNames.Stage)));
        return builder;
    }
}

/// <summary>Answers the stage service's commands.</summary>
internal sealed class StageWorker(MqttBus bus) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => bus.ListenForCommandsAsync();
}
