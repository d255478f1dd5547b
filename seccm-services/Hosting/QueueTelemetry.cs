using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MQTTnet.Protocol;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Storage;

namespace Seccm.Host.Hosting;

/// <summary>
/// Every <see cref="Interval"/>, each service's bus publishes <c>seccm/{instrument}/{service}/telemetry/queues</c> (QoS 0):
/// its own MQTT queues (outgoing, parked, received backlog) and its process's sink and memory. A backlog that only grows
/// is the first sign of a service falling behind, long before memory runs out; the soak test and operators read it here.
/// </summary>
internal sealed class QueueTelemetry(IReadOnlyList<MqttBus> buses, ITimeSeriesSink? sink, TimeProvider time) : BackgroundService
{
    public const string Name = Contracts.Messages.QueueTelemetry.Name;
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    public static void Register(IServiceCollection services, IReadOnlyList<string> serviceNames) =>
        services.AddHostedService(sp => new QueueTelemetry(
            serviceNames.Select(s => sp.GetKeyedService<MqttBus>(s)).OfType<MqttBus>().ToArray(),
            sp.GetService<ITimeSeriesSink>(),
            sp.GetRequiredService<TimeProvider>()));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (buses.Count == 0)
        {
            return;
        }
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                foreach (var bus in buses)
                {
                    await bus.PublishRawAsync(Topic.Telemetry(bus.Instrument, bus.Service, Name), Payload(bus),
                        MqttQualityOfServiceLevel.AtMostOnce, cancellationToken: stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private byte[] Payload(MqttBus bus)
    {
        var s = sink?.Status;
        using var process = Process.GetCurrentProcess();
        return SeccmJson.Serialize(new Contracts.Messages.QueueTelemetry(bus.Service, time.GetUtcNow(), bus.QueuedMessages, bus.ParkedMessages,
            bus.ReceivedBacklog, process.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false),
            // Committed by the GC but not live: with RSS it tells a managed leak from native memory.
            GC.GetGCMemoryInfo().TotalCommittedBytes)
        {
            SinkPendingPoints = s?.PendingPoints,
            SinkBufferedSegments = s?.BufferedSegments,
            SinkBufferedBytes = s?.BufferedBytes,
            SinkPointsWritten = s?.PointsWritten,
            SinkPointsDelivered = s?.PointsDelivered,
            SinkPointsDropped = s?.PointsDropped,
        });
    }
}
