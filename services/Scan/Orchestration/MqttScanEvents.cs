using MQTTnet.Protocol;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Storage;

namespace Seccm.Scan.Orchestration;

/// <summary>Publishes the scan's progress and events (progress and started retained) and writes them as time series.</summary>
internal sealed class MqttScanEvents(IMessageBus bus, ITimeSeriesSink sink) : IScanEvents
{
    public async Task StartedAsync(ScanStartedEvent started, CancellationToken cancellationToken) =>
        await bus.PublishAsync(ScanTopics.StartedTopic(bus.Instrument), started, retain: true,
            cancellationToken: cancellationToken).ConfigureAwait(false);

    public async Task PixelDoneAsync(PixelDoneEvent pixel, CancellationToken cancellationToken)
    {
        await bus.PublishAsync(ScanTopics.PixelTopic(bus.Instrument), pixel, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task ProgressAsync(ScanProgress progress, CancellationToken cancellationToken)
    {
        await bus.PublishAsync(ScanTopics.ProgressTopic(bus.Instrument), progress,
            MqttQualityOfServiceLevel.AtLeastOnce, retain: true, cancellationToken).ConfigureAwait(false);
        var point = Points.New(Measurements.ScanProgress, bus.Instrument, ServiceNames.Scan, progress.UpdatedUtc, progress.ScanId)
            .Field("pixels_done", progress.PixelsDone)
            .Field("pixels_total", progress.PixelsTotal)
            .Field("pixels_without_contact", progress.PixelsWithoutContact)
            .Field("progress_fraction", progress.PixelsTotal == 0 ? 0 : (double)progress.PixelsDone / progress.PixelsTotal)
            .Field("state", progress.State.ToString().ToLowerInvariant())
            .Field("paused", progress.State == ScanState.Paused ? 1 : 0)
            .Field("recipe", progress.RecipeName);
        if (progress.EtaS is { } eta)
        {
            point = point.Field("eta_s", eta);
        }
        if (progress.PauseReason is { } reason)
        {
            point = point.Field("pause_reason", reason);
        }
        sink.Write(point);
    }

    public async Task StateChangedAsync(ScanStateEvent change, CancellationToken cancellationToken) =>
        await bus.PublishAsync(ScanTopics.StateTopic(bus.Instrument), change, cancellationToken: cancellationToken)
            .ConfigureAwait(false);

    public async Task FinishedAsync(ScanFinishedEvent finished, CancellationToken cancellationToken) =>
        await bus.PublishAsync(ScanTopics.FinishedTopic(bus.Instrument), finished, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
}
