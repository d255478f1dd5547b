using InfluxDB.Client.Api.Domain;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Diffusion.Analysis;
using Seccm.Diffusion.Assembly;
using Seccm.Diffusion.Export;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Storage;

namespace Seccm.Diffusion;

/// <summary>
/// One diffusion worker. How the work is split over several workers:
/// an MQTT shared subscription splits MESSAGES, not pixels, so sharing the curve chunks would scatter the chunks of one
/// pixel over the workers. Instead every worker reads every chunk (plain subscription to <c>potentiostat/data/#</c>) and
/// rebuilds every pixel's curves (spilled to disk, so memory holds only pixels still in flight); the pixels are split by
/// sharing the scan's <c>event/pixel</c> (<c>$share/diffusion/...</c>): the worker that receives a pixel's done event
/// analyses it, at once or as soon as its last chunk arrives. Every worker also reads every pixel result (plain), so any
/// of them holds the whole map; <c>event/finished</c> is shared too, so exactly one worker exports. On a broker without
/// shared subscriptions (MQTTnet's embedded one) the worker subscribes plainly and is the only worker.
/// <para>
/// A worker killed mid-scan and started again (same client id, so the same persistent session) loses no pixel: chunks,
/// done events and <c>finished</c> are acknowledged to the broker only after they are handled, so what was in flight is
/// delivered again; a handled chunk is on disk first (the per-scan spill file, reopened and replayed at restart); a done
/// event is handled when its pixel's points are flushed to the sink and its result is on the broker, retained on
/// <c>result/{scanId}/pixel/{index}</c>, from where a restarted worker rebuilds the map. Handling is idempotent (a pixel
/// with a result is not analysed again; points of a pixel analysed twice have the same timestamp, so InfluxDB keeps one).
/// The retained results of a scan are cleared once its export at <c>finished</c> is written.
/// </para>
/// </summary>
internal sealed partial class DiffusionWorker(IMessageBus bus, DiffusionOptions options, ITimeSeriesSink sink, TimeProvider time,
    ILogger<DiffusionWorker> logger) : BackgroundService
{
    /// <summary>The share group of all diffusion workers of all instruments (the topic keeps instruments apart).</summary>
    public const string ShareGroup = "diffusion";

    // Event names of the scan service (services/Scan/Orchestration/MqttScanEvents.cs).
    internal const string ScanStartedEvent = ScanTopics.Started;
    internal const string ScanPixelEvent = ScanTopics.Pixel;
    internal const string ScanFinishedEvent = ScanTopics.Finished;

    private readonly object _gate = new();
    private readonly CurveAssembler _assembler = new();
    private readonly Dictionary<string, ScanRecord> _scans = new(StringComparer.Ordinal);
    private readonly List<string> _scanOrder = [];
    private long _pixelsAnalysed;
    private long _pixelsRebuilt;
    private long _analysisTicks;
    private CancellationToken _stopping;

    /// <summary>Pixels this worker analysed (tests, throughput).</summary>
    public long PixelsAnalysed => Interlocked.Read(ref _pixelsAnalysed);

    /// <summary>Pixels whose curves this worker rebuilt completely (every worker rebuilds every pixel).</summary>
    public long PixelsRebuilt => Interlocked.Read(ref _pixelsRebuilt);

    /// <summary>Time spent analysing (the CPU part of the work).</summary>
    public TimeSpan AnalysisTime => TimeSpan.FromTicks(Interlocked.Read(ref _analysisTicks));

    /// <summary>Whether this worker joined the share group (false: it is the only worker).</summary>
    public bool Shared { get; private set; }

    public Task Ready => _ready.Task;

    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private string SpillDirectory => options.SpillDirectory ?? Path.Combine(Path.GetTempPath(), "seccm-diffusion");

    /// <summary><c>seccm/{i}/diffusion/result/{scanId}/pixel/{index}</c>: one pixel's result, retained until the scan is exported.</summary>
    internal static string RetainedResultTopic(string instrument, string scanId, int index) =>
        Topic.Build(instrument, ServiceNames.Diffusion, TopicKind.Result, Topic.CheckSegment(scanId, "scan id"), DiffusionTopics.PixelResult,
            index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    internal static string RetainedResultFilter(string instrument) =>
        $"{Topic.Root}/{Topic.CheckSegment(instrument, "instrument")}/{ServiceNames.Diffusion}/result/+/{DiffusionTopics.PixelResult}/+";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        DeleteStaleSpills();
        await bus.MapCommandAsync<ExportCommand, DiffusionExportedEvent>(DiffusionTopics.ExportVerb, ExportCommandAsync).ConfigureAwait(false);
        var i = bus.Instrument;
        // Before the connection if it is not up yet: what the persistent session kept for us then goes straight to its handler.
        await bus.SubscribeAsync(Topic.Event(i, ServiceNames.Scan, ScanStartedEvent), OnStartedAsync).ConfigureAwait(false);
        await bus.SubscribeAsync(Topic.DataFilter(i), OnChunkAsync, acknowledgeAfterHandling: true).ConfigureAwait(false);
        await bus.SubscribeAsync(RetainedResultFilter(i), OnResultAsync).ConfigureAwait(false);
        // Whether the broker offers shared subscriptions is only known after its CONNACK.
        await bus.WaitConnectedAsync(Timeout.InfiniteTimeSpan, stoppingToken).ConfigureAwait(false);
        Shared = bus.SharedSubscriptionsAvailable;
        var pixelTopic = Topic.Event(i, ServiceNames.Scan, ScanPixelEvent);
        var finishedTopic = Topic.Event(i, ServiceNames.Scan, ScanFinishedEvent);
        await bus.SubscribeAsync(Shared ? Topic.Shared(ShareGroup, pixelTopic) : pixelTopic, OnPixelDoneAsync, acknowledgeAfterHandling: true)
            .ConfigureAwait(false);
        await bus.SubscribeAsync(Shared ? Topic.Shared(ShareGroup, finishedTopic) : finishedTopic, OnFinishedAsync, acknowledgeAfterHandling: true)
            .ConfigureAwait(false);
        LogStarted(logger, bus.ClientId, Shared ? $"shared subscription group '{ShareGroup}'" : "plain subscriptions (the only worker)");
        _ready.TrySetResult();
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, time, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            lock (_gate)
            {
                foreach (var scan in _scans.Values)
                {
                    scan.Dispose();
                }
                _scans.Clear();
            }
        }
    }

    private async Task OnChunkAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        CurveChunk chunk;
        try
        {
            chunk = SeccmJson.Deserialize<CurveChunk>(message.Payload.Span, message.Topic);
        }
        catch (PayloadException ex)
        {
            LogDropped(logger, ex.Message);
            return;
        }
        if (!Topic.IsValidSegment(chunk.ScanId))
        {
            LogDropped(logger, $"{message.Topic}: field scanId: '{chunk.ScanId}' is not a valid scan id");
            return;
        }
        (ScanRecord Scan, WaitingPixel Waiting, IReadOnlyList<RebuiltCurve> Curves)? ready = null;
        lock (_gate)
        {
            // First: opening a scan replays its spill, so the assembler knows what an earlier process already had.
            var scan = Scan(chunk.ScanId);
            ChunkResult result;
            try
            {
                result = _assembler.Add(chunk, message.Topic);
                if (result.Outcome != ChunkOutcome.Duplicate)
                {
                    scan.Spill.AppendChunk(chunk);
                }
            }
            catch (ChunkException ex)
            {
                LogDropped(logger, ex.Message);
                return;
            }
            if (result.Outcome != ChunkOutcome.PixelComplete)
            {
                return;
            }
            Interlocked.Increment(ref _pixelsRebuilt);
            scan.Technique ??= chunk.Technique;
            if (scan.Waiting.Remove(chunk.Pixel, out var waiting))
            {
                waiting.Timer.Dispose();
                ready = (scan, waiting, result.Curves!);
            }
        }
        if (ready is { } r)
        {
            try
            {
                await AnalyseAndPublishAsync(r.Scan, r.Waiting.Pixel, r.Curves, cancellationToken).ConfigureAwait(false);
                r.Waiting.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                r.Waiting.Done.TrySetException(ex);
                throw;
            }
        }
    }

    private async Task OnPixelDoneAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        PixelDoneEvent pixel;
        try
        {
            pixel = SeccmJson.Deserialize<PixelDoneEvent>(message.Payload.Span, message.Topic);
            Check(Topic.IsValidSegment(pixel.ScanId), message.Topic, "scanId", $"'{pixel.ScanId}' is not a valid scan id");
            Check(pixel.Index >= 0, message.Topic, "index", $"{pixel.Index} must be >= 0");
            Check(pixel.Ix is >= 0 and < 100_000 && pixel.Iy is >= 0 and < 100_000, message.Topic, "ix/iy", $"({pixel.Ix}, {pixel.Iy}) must be 0-99999");
            Check(double.IsFinite(pixel.XUm) && double.IsFinite(pixel.YUm), message.Topic, "xUm/yUm", "must be finite");
            Check(pixel.ContactZUm is null || double.IsFinite(pixel.ContactZUm.Value), message.Topic, "contactZUm", "must be finite");
        }
        catch (PayloadException ex)
        {
            LogDropped(logger, ex.Message);
            return;
        }
        await AcceptPixelAsync(pixel, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Takes on a finished pixel (its done event, or the scan's record of it at reconciliation): analyses it now when its
    /// curves are complete (or it had no contact), else waits for its last chunks (at most <see cref="DiffusionOptions.CurveWaitS"/>).
    /// Returns at once for a pixel that has a result or is being handled already.
    /// </summary>
    private async Task AcceptPixelAsync(PixelDoneEvent pixel, CancellationToken cancellationToken)
    {
        IReadOnlyList<RebuiltCurve> curves;
        ScanRecord scan;
        WaitingPixel? waiting = null;
        lock (_gate)
        {
            scan = Scan(pixel.ScanId);
            if (scan.Results.ContainsKey(pixel.Index) || scan.Waiting.ContainsKey(pixel.Index) || !scan.Claimed.Add(pixel.Index))
            {
                // Redelivered (QoS 1) or already analysed: each pixel is analysed once.
                return;
            }
            if (!pixel.Contact)
            {
                curves = [];
            }
            else if (_assembler.IsComplete(pixel.ScanId, pixel.Index))
            {
                curves = scan.Spill.ReadPixel(pixel.Index);
            }
            else
            {
                var key = (pixel.ScanId, pixel.Index);
                var timer = time.CreateTimer(_ => _ = Task.Run(() => OnCurveWaitExpiredAsync(key.ScanId, key.Index)), null,
                    TimeSpan.FromSeconds(options.CurveWaitS), Timeout.InfiniteTimeSpan);
                waiting = new WaitingPixel(pixel, timer, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                scan.Waiting[pixel.Index] = waiting;
                curves = [];
            }
        }
        if (waiting is not null)
        {
            // The event is acknowledged (and so not delivered again after a kill) only once the pixel is analysed.
            await waiting.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        await AnalyseAndPublishAsync(scan, pixel, curves, cancellationToken).ConfigureAwait(false);
    }

    private async Task OnCurveWaitExpiredAsync(string scanId, int index)
    {
        ScanRecord? scan;
        WaitingPixel? waiting;
        IReadOnlyList<RebuiltCurve> curves;
        lock (_gate)
        {
            if (!_scans.TryGetValue(scanId, out scan) || !scan.Waiting.Remove(index, out waiting))
            {
                return;
            }
            waiting.Timer.Dispose();
            curves = _assembler.TakeCompleteRates(scanId, index);
        }
        LogCurvesMissing(logger, scanId, index, options.CurveWaitS, curves.Count);
        try
        {
            await AnalyseAndPublishAsync(scan, waiting.Pixel, curves, _stopping).ConfigureAwait(false);
            waiting.Done.TrySetResult();
        }
        catch (OperationCanceledException)
        {
            waiting.Done.TrySetCanceled();
        }
        catch (Exception ex)
        {
            waiting.Done.TrySetException(ex);
        }
    }

    private async Task AnalyseAndPublishAsync(ScanRecord scan, PixelDoneEvent pixel, IReadOnlyList<RebuiltCurve> curves, CancellationToken cancellationToken)
    {
        var technique = curves.FirstOrDefault()?.Technique ?? scan.Technique ?? "cv";
        var started = time.GetTimestamp();
        var (result, problem) = PixelAnalyzer.Analyze(pixel, technique, curves, PixelAnalyzer.Settings(scan.Started?.Recipe.Analysis, options.MeasurementBandwidthHz),
            options.HoldTailFraction, bus.ClientId, time.GetUtcNow());
        Interlocked.Add(ref _analysisTicks, time.GetElapsedTime(started).Ticks);
        if (problem is not null)
        {
            LogAnalysisFailed(logger, pixel.ScanId, pixel.Index, problem);
        }
        // In this order, each step done before the next, so that a kill at any point leaves the pixel's done event
        // unacknowledged (it comes again) or its points stored and its retained result on the broker (it is not analysed again).
        WritePoints(result, pixel.TimestampUtc);
        await sink.FlushAsync(cancellationToken).ConfigureAwait(false);
        await bus.PublishConfirmedAsync(DiffusionTopics.PixelResultTopic(bus.Instrument, pixel.ScanId), result, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        await bus.PublishConfirmedAsync(RetainedResultTopic(bus.Instrument, pixel.ScanId, pixel.Index), result, retain: true, cancellationToken)
            .ConfigureAwait(false);
        MapUpdate update;
        lock (_gate)
        {
            scan.Results[pixel.Index] = result;
            scan.Claimed.Remove(pixel.Index);
            update = MapUpdateOf(scan, result);
        }
        Interlocked.Increment(ref _pixelsAnalysed);
        await bus.PublishAsync(DiffusionTopics.MapTopic(bus.Instrument, pixel.ScanId), update, MqttQualityOfServiceLevel.AtMostOnce,
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static MapUpdate MapUpdateOf(ScanRecord scan, PixelResultMessage result)
    {
        var median = Seccm.Maps.MapStatistics.MedianOrNull(scan.Results.Values.Select(r => r.DCm2PerS).OfType<double>());
        return new MapUpdate(result.ScanId, scan.Results.Count, scan.Started?.Pixels.Count, scan.Started?.Nx ?? 0, scan.Started?.Ny ?? 0,
            result.Index, result.Ix, result.Iy, result.DCm2PerS, result.MeanCurrentA, result.ContactZUm, median, result.TimestampUtc);
    }

    /// <summary>
    /// One <c>pixel_result</c> point and one <c>cv_peak</c> point per rate. InfluxDB keeps one point per series and timestamp,
    /// and pixels of one scan share their series: the timestamp is the pixel's done time at millisecond resolution plus
    /// 100 ns per pixel index (mod 10000) plus 1 ns per rate, distinct unless two pixels 10000 apart finish in the same millisecond.
    /// </summary>
    private void WritePoints(PixelResultMessage r, DateTimeOffset doneUtc)
    {
        var ms = Points.ToUnixNanoseconds(doneUtc) / 1_000_000 * 1_000_000;
        var ns = ms + (r.Index % 10_000 * 100L);
        var point = Points.New(Measurements.PixelResult, bus.Instrument, bus.Service, doneUtc, r.ScanId, r.Technique)
            .Timestamp(ns, WritePrecision.Ns)
            .Field("pixel", r.Index)
            .Field("ix", r.Ix)
            .Field("iy", r.Iy)
            .Field("x_um", r.XUm)
            .Field("y_um", r.YUm)
            .Field("contact", r.Contact)
            .Field("flag", r.Flags)
            .Field("ok", r.Flags == "ok")
            .Field("rates_used", r.RatesUsed);
        foreach (var (name, value) in new (string, double?)[]
                 {
                     ("d_cm2_s", r.DCm2PerS), ("d_m2_s", r.DCm2PerS * 1e-4), ("r2", r.RSquared), ("dep_v", r.DeltaEpV),
                     ("delta_ep_v", r.DeltaEpV), ("k0_cm_s", r.K0CmPerS), ("slope_a_per_sqrt_v_s", r.SlopeAPerSqrtVPerS),
                     ("contact_z_um", r.ContactZUm), ("current_a", r.MeanCurrentA),
                 })
        {
            if (value is { } v && double.IsFinite(v))
            {
                point = point.Field(name, v);
            }
        }
        sink.Write(point);
        foreach (var p in r.Peaks)
        {
            var peak = Points.New(Measurements.CvPeak, bus.Instrument, bus.Service, doneUtc, r.ScanId, r.Technique)
                .Timestamp(ns + 1 + Math.Clamp(p.RateIndex, 0, 98), WritePrecision.Ns)
                .Field("pixel", r.Index)
                .Field("x_um", r.XUm)
                .Field("y_um", r.YUm)
                .Field("rate_index", p.RateIndex)
                .Field("scan_rate_v_s", p.ScanRateVPerS)
                .Field("sqrt_scan_rate", Math.Sqrt(p.ScanRateVPerS))
                .Field("has_peak", p.HasPeak)
                .Field("used", r.RatesUsedVPerS.Contains(p.ScanRateVPerS));
            foreach (var (name, value) in new (string, double?)[]
                     {
                         ("ip_a", p.IpA), ("ep_v", p.EpV), ("ip_reverse_a", p.IpReverseA), ("ep_reverse_v", p.EpReverseV), ("delta_ep_v", p.DeltaEpV),
                     })
            {
                if (value is { } v && double.IsFinite(v))
                {
                    peak = peak.Field(name, v);
                }
            }
            sink.Write(peak);
        }
    }

    private Task OnResultAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (message.Payload.IsEmpty)
        {
            // A retained result being cleared after its scan's export.
            return Task.CompletedTask;
        }
        PixelResultMessage result;
        try
        {
            result = SeccmJson.Deserialize<PixelResultMessage>(message.Payload.Span, message.Topic);
            Check(Topic.IsValidSegment(result.ScanId) && message.Topic.Contains($"/{result.ScanId}/", StringComparison.Ordinal),
                message.Topic, "scanId", $"'{result.ScanId}' does not match the topic");
            Check(result.Index >= 0 && message.Topic.EndsWith($"/{result.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)}", StringComparison.Ordinal),
                message.Topic, "index", $"{result.Index} must be >= 0 and match the topic");
            Check(result.Ix is >= 0 and < 100_000 && result.Iy is >= 0 and < 100_000, message.Topic, "ix/iy", $"({result.Ix}, {result.Iy}) must be 0-99999");
        }
        catch (PayloadException ex)
        {
            LogDropped(logger, ex.Message);
            return Task.CompletedTask;
        }
        lock (_gate)
        {
            // Our own results are in already; another worker's fill in the map.
            Scan(result.ScanId).Results.TryAdd(result.Index, result);
        }
        return Task.CompletedTask;
    }

    private Task OnStartedAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        ScanStartedEvent started;
        try
        {
            started = SeccmJson.Deserialize<ScanStartedEvent>(message.Payload.Span, message.Topic);
            Check(Topic.IsValidSegment(started.ScanId), message.Topic, "scanId", $"'{started.ScanId}' is not a valid scan id");
            Check(started.Nx is > 0 and < 100_000 && started.Ny is > 0 and < 100_000, message.Topic, "nx/ny", $"{started.Nx} x {started.Ny} must be 1-99999 each");
            Check(started.Pixels.All(p => p.Ix >= 0 && p.Ix < started.Nx && p.Iy >= 0 && p.Iy < started.Ny), message.Topic, "pixels",
                "a pixel's ix/iy lies outside nx x ny");
        }
        catch (PayloadException ex)
        {
            LogDropped(logger, ex.Message);
            return Task.CompletedTask;
        }
        lock (_gate)
        {
            var scan = Scan(started.ScanId);
            scan.Started = started;
            scan.Technique ??= started.Recipe.Technique?.Kind == TechniqueKind.Hold ? PixelAnalyzer.HoldTechnique : "cv";
        }
        return Task.CompletedTask;
    }

    private async Task OnFinishedAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        ScanFinishedEvent finished;
        try
        {
            finished = SeccmJson.Deserialize<ScanFinishedEvent>(message.Payload.Span, message.Topic);
            Check(Topic.IsValidSegment(finished.ScanId), message.Topic, "scanId", $"'{finished.ScanId}' is not a valid scan id");
        }
        catch (PayloadException ex)
        {
            LogDropped(logger, ex.Message);
            return;
        }
        // Pixels other workers analyse, or that wait here for their last chunks, may not have reported yet. A broker killed
        // mid-scan may have lost done events or chunks for good: after a short wait, reconcile with the scan's record.
        var waitStart = time.GetTimestamp();
        await WaitForResultsAsync(finished, Math.Min(options.ReconcileAfterS, options.ExportWaitS), waitStart, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<int>? unresolved = null;
        if (ResultCount(finished.ScanId) < finished.PixelsDone && options.ExportWaitS > 0)
        {
            unresolved = await ReconcileAsync(finished, cancellationToken).ConfigureAwait(false);
        }
        await WaitForResultsAsync(finished, options.ExportWaitS, waitStart, cancellationToken).ConfigureAwait(false);
        var have = ResultCount(finished.ScanId);
        if (have < finished.PixelsDone)
        {
            LogExportIncomplete(logger, finished.ScanId, have, finished.PixelsDone, time.GetElapsedTime(waitStart).TotalSeconds,
                unresolved is null ? "unknown (the scan did not list its recorded pixels)" : string.Join(", ", unresolved));
        }
        try
        {
            await ExportAsync(finished.ScanId, cancellationToken).ConfigureAwait(false);
        }
        catch (CommandException ex)
        {
            LogExportFailed(logger, finished.ScanId, ex.Message);
            return;
        }
        await ClearRetainedResultsAsync(finished.ScanId, cancellationToken).ConfigureAwait(false);
    }

    private async Task WaitForResultsAsync(ScanFinishedEvent finished, double untilS, long since, CancellationToken cancellationToken)
    {
        while (ResultCount(finished.ScanId) < finished.PixelsDone && time.GetElapsedTime(since).TotalSeconds < untilS)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Asks the scan which pixels it recorded (<c>scan/cmd/pixels</c>), the potentiostat to publish again the curves this
    /// worker lacks for those without a result (<c>potentiostat/cmd/replay</c>), and analyses each such pixel as if its done
    /// event had come now; a pixel whose curves cannot be had is analysed with what is here, and said so. The points of a
    /// pixel analysed here carry the finished event's time (it comes again unchanged if this worker is killed meanwhile).
    /// Returns the recorded pixels that still have no result.
    /// </summary>
    private async Task<IReadOnlyList<int>?> ReconcileAsync(ScanFinishedEvent finished, CancellationToken cancellationToken)
    {
        var scanId = finished.ScanId;
        var requestTimeout = TimeSpan.FromSeconds(Math.Max(5, options.ReplayWaitS));
        ScanPixelsResult recorded;
        try
        {
            recorded = await bus.CallAsync<ScanPixelsCommand, ScanPixelsResult>(ServiceNames.Scan, ScanTopics.PixelsVerb, new ScanPixelsCommand(scanId),
                requestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is CommandFailedException or CommandTimeoutException or PayloadException)
        {
            LogReconcileFailed(logger, scanId, $"{ScanTopics.PixelsCommandTopic(bus.Instrument)}: {ex.Message}");
            return null;
        }
        var where = $"reply of {ScanTopics.PixelsCommandTopic(bus.Instrument)}";
        if (recorded.ScanId != scanId || recorded.Pixels is null)
        {
            LogReconcileFailed(logger, scanId, $"{where}: field scanId: it answers for '{recorded.ScanId}' (or lists no pixels)");
            return null;
        }
        var usable = new List<RecordedPixel>(recorded.Pixels.Count);
        foreach (var p in recorded.Pixels)
        {
            if (p.Index >= 0 && p.Ix is >= 0 and < 100_000 && p.Iy is >= 0 and < 100_000 && double.IsFinite(p.XUm) && double.IsFinite(p.YUm)
                && (p.ContactZUm is null || double.IsFinite(p.ContactZUm.Value)))
            {
                usable.Add(p);
            }
            else
            {
                LogDropped(logger, $"{where}: pixels: {p} has an index, ix/iy (0-99999) or coordinate out of range");
            }
        }
        List<RecordedPixel> missing;
        List<int> needCurves;
        lock (_gate)
        {
            var scan = Scan(scanId);
            missing = [.. usable.Where(p => !scan.Results.ContainsKey(p.Index))];
            needCurves = [.. missing.Where(p => p.Contact && !_assembler.IsComplete(scanId, p.Index)).Select(p => p.Index)];
        }
        if (missing.Count == 0)
        {
            return [];
        }
        LogReconciling(logger, scanId, missing.Count, usable.Count, string.Join(", ", missing.Select(p => p.Index)), needCurves.Count);
        var unavailable = new Dictionary<int, string>();
        foreach (var batch in needCurves.Chunk(ReplayCommand.MaxPixels))
        {
            try
            {
                var replay = await bus.CallAsync<ReplayCommand, ReplayResult>(ServiceNames.Potentiostat, PotentiostatTopics.ReplayVerb,
                    new ReplayCommand(scanId, batch), requestTimeout, cancellationToken).ConfigureAwait(false);
                foreach (var index in replay.Missing)
                {
                    unavailable[index] = "the potentiostat has no raw curves of it";
                }
                LogReplayAnswered(logger, scanId, replay.Sent.Count, replay.ChunksSent, replay.Missing.Count);
            }
            catch (Exception ex) when (ex is CommandFailedException or CommandTimeoutException or PayloadException)
            {
                foreach (var index in batch)
                {
                    unavailable[index] = $"the replay failed: {ex.Message}";
                }
            }
        }
        var handling = new List<Task>(missing.Count);
        foreach (var p in missing)
        {
            Task? waiting;
            lock (_gate)
            {
                waiting = _scans.TryGetValue(scanId, out var scan) && scan.Waiting.TryGetValue(p.Index, out var w) ? w.Done.Task : null;
            }
            // A pixel whose done event came here waits already; the others are taken on as if their event came now.
            handling.Add(waiting ?? AcceptPixelAsync(new PixelDoneEvent(scanId, p.Index, p.Ix, p.Iy, p.XUm, p.YUm, p.Contact, p.ContactZUm,
                finished.TimestampUtc), cancellationToken));
        }
        foreach (var (index, reason) in unavailable)
        {
            LogPixelUnrecoverable(logger, scanId, index, reason);
            await OnCurveWaitExpiredAsync(scanId, index).ConfigureAwait(false);
        }
        var all = Task.WhenAll(handling);
        try
        {
            await all.WaitAsync(TimeSpan.FromSeconds(options.ReplayWaitS), time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            int[] stuck;
            lock (_gate)
            {
                stuck = _scans.TryGetValue(scanId, out var scan) ? [.. missing.Select(p => p.Index).Where(scan.Waiting.ContainsKey)] : [];
            }
            foreach (var index in stuck)
            {
                LogPixelUnrecoverable(logger, scanId, index, $"its replayed curves were not complete after {options.ReplayWaitS} s");
                await OnCurveWaitExpiredAsync(scanId, index).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // One pixel's failure (logged where it happened) must not keep the others out of the export.
            LogReconcileFailed(logger, scanId, ex.Message);
        }
        lock (_gate)
        {
            var scan = Scan(scanId);
            return [.. usable.Select(p => p.Index).Where(i => !scan.Results.ContainsKey(i))];
        }
    }

    /// <summary>
    /// The map is in its files now: the retained results go, or they would pile up in the broker scan after scan. Workers
    /// keep the scan in memory (and its spill on disk) for <c>cmd/export</c>; a worker started after this no longer sees it.
    /// </summary>
    private async Task ClearRetainedResultsAsync(string scanId, CancellationToken cancellationToken)
    {
        int[] indexes;
        lock (_gate)
        {
            indexes = _scans.TryGetValue(scanId, out var scan) ? [.. scan.Results.Keys] : [];
        }
        foreach (var index in indexes)
        {
            await bus.PublishRawAsync(RetainedResultTopic(bus.Instrument, scanId, index), [], MqttQualityOfServiceLevel.AtLeastOnce, retain: true,
                cancellationToken).ConfigureAwait(false);
        }
        LogCleared(logger, scanId, indexes.Length);
    }

    /// <summary>Spill files of this worker left by scans that ended long ago (a scan is only evicted from a running process).</summary>
    private void DeleteStaleSpills()
    {
        if (!Directory.Exists(SpillDirectory))
        {
            return;
        }
        var cutoff = time.GetUtcNow().UtcDateTime - TimeSpan.FromHours(options.SpillKeepHours);
        foreach (var file in Directory.EnumerateFiles(SpillDirectory, $"{bus.ClientId}-*.chunks"))
        {
            try
            {
                if (System.IO.File.GetLastWriteTimeUtc(file) < cutoff)
                {
                    System.IO.File.Delete(file);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogDropped(logger, $"{file}: cannot delete an old spill file: {ex.Message}");
            }
        }
    }

    private int ResultCount(string scanId)
    {
        lock (_gate)
        {
            return _scans.TryGetValue(scanId, out var scan) ? scan.Results.Count : 0;
        }
    }

    private Task<DiffusionExportedEvent> ExportCommandAsync(ExportCommand command, CancellationToken cancellationToken) =>
        ExportAsync(command.ScanId, cancellationToken);

    private async Task<DiffusionExportedEvent> ExportAsync(string scanId, CancellationToken cancellationToken)
    {
        ExportInput input;
        lock (_gate)
        {
            if (!_scans.TryGetValue(scanId, out var scan))
            {
                throw CommandException.Invalid(
                    $"scan '{scanId}' is unknown to {bus.ClientId}: it keeps the last {options.MaxScansKept} scans (known: {string.Join(", ", _scanOrder)})");
            }
            if (scan.Results.Count == 0)
            {
                throw CommandException.Refused($"scan '{scanId}' has no analysed pixel yet; nothing to export");
            }
            input = new ExportInput(scanId, bus.Instrument, scan.Started, scan.Results.Values.ToArray(), scan.Spill, scan.Technique ?? "cv",
                options.ExampleCvPixels);
        }
        var directory = Path.GetFullPath(options.FlatOutput ? options.OutputDirectory : Path.Combine(options.OutputDirectory, scanId));
        IReadOnlyList<string> files;
        ExportSummary summary;
        try
        {
            (files, summary) = await Task.Run(() => MapExporter.Export(input, directory), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CommandException(Contracts.Messages.ErrorCodes.Internal, $"{directory}: cannot write the map files of scan '{scanId}': {ex.Message}");
        }
        var exported = new DiffusionExportedEvent(scanId, directory, files, summary, time.GetUtcNow());
        await bus.PublishAsync(DiffusionTopics.ExportedTopic(bus.Instrument), exported, MqttQualityOfServiceLevel.AtLeastOnce,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        LogExported(logger, scanId, input.Results.Count, directory);
        return exported;
    }

    /// <summary>The state of a scan, created on first sight; beyond <see cref="DiffusionOptions.MaxScansKept"/> the oldest goes. Call under the lock.</summary>
    private ScanRecord Scan(string scanId)
    {
        if (_scans.TryGetValue(scanId, out var scan))
        {
            return scan;
        }
        while (_scanOrder.Count >= options.MaxScansKept)
        {
            var oldest = _scanOrder[0];
            _scanOrder.RemoveAt(0);
            _scans.Remove(oldest, out var old);
            old?.Dispose();
            old?.Spill.Delete();
            _assembler.ForgetScan(oldest);
        }
        // One file per worker and scan, so that this worker started again finds what it had.
        var spill = CurveSpill.Open(Path.Combine(SpillDirectory, $"{bus.ClientId}-{scanId}.chunks"), scanId);
        var replayed = 0;
        foreach (var chunk in spill.ReadAllChunks())
        {
            try
            {
                _assembler.Add(chunk, spill.Path);
                replayed++;
            }
            catch (ChunkException ex)
            {
                LogDropped(logger, ex.Message);
            }
        }
        if (replayed > 0 || spill.TruncatedBytes > 0)
        {
            LogSpillReplayed(logger, scanId, replayed, spill.Pixels.Count, spill.Path, spill.TruncatedBytes);
        }
        scan = new ScanRecord(scanId, spill);
        _scans[scanId] = scan;
        _scanOrder.Add(scanId);
        return scan;
    }

    private static void Check(bool ok, string topic, string field, string problem)
    {
        if (!ok)
        {
            throw new PayloadException($"{topic}: field {field}: {problem}");
        }
    }

    private sealed record WaitingPixel(PixelDoneEvent Pixel, ITimer Timer, TaskCompletionSource Done);

    private sealed class ScanRecord(string scanId, CurveSpill spill) : IDisposable
    {
        public string ScanId { get; } = scanId;

        public CurveSpill Spill { get; } = spill;

        public ScanStartedEvent? Started { get; set; }

        public string? Technique { get; set; }

        public Dictionary<int, PixelResultMessage> Results { get; } = [];

        /// <summary>Pixels whose done event came to this worker and whose chunks are still missing.</summary>
        public Dictionary<int, WaitingPixel> Waiting { get; } = [];

        /// <summary>Pixels this worker is analysing right now.</summary>
        public HashSet<int> Claimed { get; } = [];

        public void Dispose()
        {
            foreach (var w in Waiting.Values)
            {
                w.Timer.Dispose();
                w.Done.TrySetCanceled();
            }
            Waiting.Clear();
            Spill.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{ClientId}: diffusion worker ready ({Mode})")]
    private static partial void LogStarted(ILogger logger, string clientId, string mode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a message: {Reason}")]
    private static partial void LogDropped(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scan {ScanId} pixel {Index}: chunks still missing after {WaitS} s; analysing the {Rates} complete rate(s)")]
    private static partial void LogCurvesMissing(ILogger logger, string scanId, int index, double waitS, int rates);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scan {ScanId} pixel {Index}: the curves cannot be analysed: {Reason}")]
    private static partial void LogAnalysisFailed(ILogger logger, string scanId, int index, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scan {ScanId}: exporting with {Have} of {Done} pixel results after waiting {WaitS:0.#} s; missing: {Missing}")]
    private static partial void LogExportIncomplete(ILogger logger, string scanId, int have, int done, double waitS, string missing);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Scan {ScanId}: {Missing} of the {Recorded} recorded pixels have no result (lost in the broker?): {Pixels}; asking the potentiostat to replay the curves of {Replay}")]
    private static partial void LogReconciling(ILogger logger, string scanId, int missing, int recorded, string pixels, int replay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scan {ScanId}: the potentiostat replayed {Pixels} pixel(s) in {Chunks} chunk(s); {Missing} pixel(s) it has no record of")]
    private static partial void LogReplayAnswered(ILogger logger, string scanId, int pixels, int chunks, int missing);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scan {ScanId} pixel {Index}: its curves cannot be recovered ({Reason}); analysed with what arrived")]
    private static partial void LogPixelUnrecoverable(ILogger logger, string scanId, int index, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Scan {ScanId}: reconciliation with the scan's record failed: {Reason}")]
    private static partial void LogReconcileFailed(ILogger logger, string scanId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Scan {ScanId}: export failed: {Reason}")]
    private static partial void LogExportFailed(ILogger logger, string scanId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scan {ScanId}: cleared the {Pixels} retained pixel results from the broker")]
    private static partial void LogCleared(ILogger logger, string scanId, int pixels);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Scan {ScanId}: replayed {Chunks} chunks of {Pixels} pixels from {Path} (an earlier run of this worker; {TruncatedBytes} bytes of an unfinished record cut off)")]
    private static partial void LogSpillReplayed(ILogger logger, string scanId, int chunks, int pixels, string path, long truncatedBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scan {ScanId}: exported {Pixels} pixels to {Directory}")]
    private static partial void LogExported(ILogger logger, string scanId, int pixels, string directory);
}
