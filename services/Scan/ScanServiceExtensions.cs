using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;

namespace Seccm.Scan;

/// <summary>Registers the scan service.</summary>
public static class ScanServiceExtensions
{
    /// <summary>Adds the scan service: its MQTT connection, retained status and commands.</summary>
    public static IHostApplicationBuilder AddScanService(this IHostApplicationBuilder builder)
    {
        builder.AddServiceBus(ServiceNames.Scan);
        builder.Services.AddHostedService(sp => new ScanWorker(sp.GetRequiredKeyedService<MqttBus>(ServiceNames.Scan)));
        return builder;
    }
}

/// <summary>Answers the scan service's commands.</summary>
internal sealed class ScanWorker(MqttBus bus) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => bus.ListenForCommandsAsync();
}
