using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Diffusion.Analysis;
using Seccm.Curves;
using Seccm.Diffusion.Scans;
using Seccm.Messaging.Bus;
using Seccm.Storage;

namespace Seccm.Diffusion.Results;

/// <summary>
/// Analyses a pixel and makes its result known: points to the sink, the result on the broker (live and retained, so a
/// restarted worker rebuilds the map), the map update; takes in the retained results of every worker and clears them
/// once the scan is exported.
/// </summary>
internal sealed partial class ResultPublisher(IMessageBus bus, DiffusionOptions options, ITimeSeriesSink sink, TimeProvider time, ScanLedger ledger,
    ILogger logger)
{
    private long _pixelsAnalysed;
    private long _analysisTicks;

    /// <summary>Pixels this worker analysed.</summary>
    public long PixelsAnalysed => Interlocked.Read(ref _pixelsAnalysed);

    /// <summary>Time spent analysing (the CPU part of the work).</summary>
    public TimeSpan AnalysisTime => TimeSpan.FromTicks(Interlocked.Read(ref _analysisTicks));

    /// <summary><c>seccm/{i}/diffusion/result/{scanId}/pixel/{index}</c>: one pixel's result, retained until the scan is exported.</summary>
    public static string RetainedResultTopic(string instrument, string scanId, int index) =>
        Topic.Build(instrument, ServiceNames.Diffusion, TopicKind.Result, Topic.CheckSegment(scanId, "scan id"), DiffusionTopics.PixelResult,
            index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static string RetainedResultFilter(string instrument) =>
        $"{Topic.Root}/{Topic.CheckSegment(instrument, "instrument")}/{ServiceNames.Diffusion}/result/+/{DiffusionTopics.PixelResult}/+";

    public async Task AnalyseAndPublishAsync(ScanRecord scan, PixelDoneEvent pixel, IReadOnlyList<Curve> curves, CancellationToken cancellationToken)
    {
        var technique = curves.FirstOrDefault()?.Technique ?? scan.Technique ?? "cv";
        var started = time.GetTimestamp();
        var (result, problem) = PixelAnalyzer.Analyze(pixel, technique, curves, PixelAnalyzer.Settings(scan.Started?.Recipe.Analysis, options.MeasurementBandwidthHz, options.UncompensatedResistanceOhm),
            options.HoldTailFraction, bus.ClientId, time.GetUtcNow());
        Interlocked.Add(ref _analysisTicks, time.GetElapsedTime(started).Ticks);
        if (problem is not null)
        {
            LogAnalysisFailed(logger, pixel.ScanId, pixel.Index, problem);
        }
        // In this order, each step done before the next, so that a kill at any point leaves the pixel's done event
        // unacknowledged (it comes again) or its points stored and its retained result on the broker (it is not analysed again).
        foreach (var point in PixelPoints.Of(result, pixel.TimestampUtc, bus.Instrument, bus.Service))
        {
            sink.Write(point);
        }
        await sink.FlushAsync(cancellationToken).ConfigureAwait(false);
        await bus.PublishConfirmedAsync(DiffusionTopics.PixelResultTopic(bus.Instrument, pixel.ScanId), result, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        await bus.PublishConfirmedAsync(RetainedResultTopic(bus.Instrument, pixel.ScanId, pixel.Index), result, retain: true, cancellationToken)
            .ConfigureAwait(false);
        MapUpdate update;
        lock (ledger.Gate)
        {
            scan.Results[pixel.Index] = result;
            scan.Claimed.Remove(pixel.Index);
            update = MapUpdateOf(scan, result);
        }
        Interlocked.Increment(ref _pixelsAnalysed);
        await bus.PublishAsync(DiffusionTopics.MapTopic(bus.Instrument, pixel.ScanId), update, MqttQualityOfServiceLevel.AtMostOnce,
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A retained result (this worker's or another's): fills in the map.</summary>
    public Task OnResultAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (message.Payload.IsEmpty)
        {
            // A retained result being cleared after its scan's export.
            return Task.CompletedTask;
        }
        if (!message.TryRead<PixelResultMessage>(logger, "dropped", out var result, MatchesTopic))
        {
            return Task.CompletedTask;
        }
        lock (ledger.Gate)
        {
            var scan = ledger.Scan(result.ScanId);
            if (result.Flags == PixelAnalyzer.PendingFlag)
            {
                if (result.Worker != bus.ClientId && !scan.Results.ContainsKey(result.Index))
                {
                    scan.PendingElsewhere[result.Index] = result.Worker;
                }
                return Task.CompletedTask;
            }
            // Our own results are in already; another worker's fill in the map.
            scan.Results.TryAdd(result.Index, result);
            scan.PendingElsewhere.Remove(result.Index);
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Tells the other workers that this one took the pixel on and waits for its curves (a retained placeholder where its
    /// result will be), so that a reconciliation elsewhere does not analyse it a second time.
    /// </summary>
    public ValueTask PublishPendingAsync(PixelDoneEvent pixel, CancellationToken cancellationToken) =>
        bus.PublishAsync(RetainedResultTopic(bus.Instrument, pixel.ScanId, pixel.Index), Pending(pixel), MqttQualityOfServiceLevel.AtLeastOnce,
            retain: true, cancellationToken: cancellationToken);

    /// <summary>
    /// The same placeholder, confirmed by the broker before this returns: a reconciliation claims the pixels it takes on
    /// before it asks for their curves, so a worker that still has their done events queued leaves them to it.
    /// </summary>
    public Task ClaimAsync(PixelDoneEvent pixel, CancellationToken cancellationToken) =>
        bus.PublishConfirmedAsync(RetainedResultTopic(bus.Instrument, pixel.ScanId, pixel.Index), Pending(pixel), retain: true, cancellationToken);

    private PixelResultMessage Pending(PixelDoneEvent pixel) =>
        PixelAnalyzer.Empty(pixel, "cv", bus.ClientId, time.GetUtcNow()) with { Flags = PixelAnalyzer.PendingFlag };

    /// <summary>
    /// The map is in its files now: the retained results go, or they would pile up in the broker scan after scan. Workers
    /// keep the scan in memory (and its spill on disk) for <c>cmd/export</c>; a worker started after this no longer sees it.
    /// </summary>
    public async Task ClearRetainedResultsAsync(string scanId, CancellationToken cancellationToken)
    {
        int[] indexes;
        lock (ledger.Gate)
        {
            indexes = ledger.TryGet(scanId, out var scan) ? [.. scan.Results.Keys.Union(scan.PendingElsewhere.Keys)] : [];
        }
        // Confirmed, one at a time (within the broker's receive maximum): when this says cleared, the broker has them
        // cleared and a subscriber arriving next gets none (they were queued, and a loaded service could still be sending).
        foreach (var index in indexes)
        {
            await bus.PublishRawConfirmedAsync(RetainedResultTopic(bus.Instrument, scanId, index), [], retain: true, cancellationToken).ConfigureAwait(false);
        }
        LogCleared(logger, scanId, indexes.Length);
    }

    private static MapUpdate MapUpdateOf(ScanRecord scan, PixelResultMessage result)
    {
        var median = Seccm.Maps.MapStatistics.MedianOrNull(scan.Results.Values.Select(r => r.DCm2PerS).OfType<double>());
        return new MapUpdate(result.ScanId, scan.Results.Count, scan.Started?.Pixels.Count, scan.Started?.Nx ?? 0, scan.Started?.Ny ?? 0,
            result.Index, result.Ix, result.Iy, result.DCm2PerS, result.MeanCurrentA, result.ContactZUm, median, result.TimestampUtc);
    }

    /// <summary>
    /// A retained result of a worker, checked by its contract; its scan id and index must also match the topic it came on.
    /// </summary>
    private static string? MatchesTopic(string topic, PixelResultMessage result) =>
        topic.Contains($"/{result.ScanId}/", StringComparison.Ordinal)
        && topic.EndsWith($"/{result.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)}", StringComparison.Ordinal)
            ? null
            : $"scanId '{result.ScanId}' and index {result.Index} do not match the topic";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scan {ScanId} pixel {Index}: the curves cannot be analysed: {Reason}")]
    private static partial void LogAnalysisFailed(ILogger logger, string scanId, int index, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scan {ScanId}: cleared the {Pixels} retained pixel results from the broker")]
    private static partial void LogCleared(ILogger logger, string scanId, int pixels);
}
