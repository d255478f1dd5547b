using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Stage;
using Seccm.Curves.Log;
using Seccm.Devices;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Potentiostat.Drivers;
using Seccm.Potentiostat.Publishing;
using Seccm.Potentiostat.Recording;
using Seccm.Storage;

namespace Seccm.Potentiostat;

/// <summary>
/// The potentiostat service: runs cv/hold on the driver one at a time, publishes curves as numbered chunks (QoS 1),
/// a contact event when a hold's current crosses its threshold, and current telemetry; abort interrupts at once.
/// The stage's position telemetry feeds the simulated driver (where the pipette is, whether it touches).
/// Every chunk is written to the scan's raw-data file before it is published; <c>cmd/replay</c> publishes a scan's pixels
/// again from there, for readers whose chunks died in a broker killed before delivering them.
/// </summary>
internal sealed partial class PotentiostatWorker(
    IMessageBus bus, Func<IPotentiostat> createDriver, PipettePositionTracker position, PotentiostatOptions options, TimeProvider time,
    ITimeSeriesSink sink, CurveRecorder recorder, ILogger<PotentiostatWorker> logger) : BackgroundService
{
    private readonly SemaphoreSlim _technique = new(1, 1);
    private readonly DeviceGate _ready = new();
    private readonly object _liveGate = new();
    private readonly CurveRetention _retention = new(recorder.Directory, options, time, logger);
    private string? _sweptFor;
    private readonly Dictionary<int, int> _takes = [];
    private string? _takesScan;
    private IPotentiostat _driver = null!;
    private CancellationToken _stopping;
    private string? _running;
    private ContactHold? _contactHold;
    private bool _cellOn;
    private double? _lastPotentialV;
    private double? _lastCurrentA;
    private double _sumCurrentA;
    private long _samplesSinceTelemetry;
    private string? _recordingFailedScan;

    private long NewestPositionReport => position.Newest?.Sequence ?? 0;

    /// <summary>The running technique ("cv", "hold") or null.</summary>
    public string? Running => Volatile.Read(ref _running);

    /// <summary>Maps the commands before the host has started: the bus announces the service online only after them.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await bus.MapCommandAsync<CvCommand, TechniqueFinishedEvent>(PotentiostatTopics.CvVerb, _ready.Guard<CvCommand, TechniqueFinishedEvent>(CvAsync)).ConfigureAwait(false);
        await bus.MapCommandAsync<ChargeDischargeCommand, TechniqueFinishedEvent>(PotentiostatTopics.ChargeDischargeVerb,
            _ready.Guard<ChargeDischargeCommand, TechniqueFinishedEvent>(ChargeDischargeAsync)).ConfigureAwait(false);
        await bus.MapCommandAsync<HoldCommand, System.Text.Json.JsonElement>(PotentiostatTopics.HoldVerb, _ready.Guard<HoldCommand, System.Text.Json.JsonElement>(HoldAsync)).ConfigureAwait(false);
        await bus.MapCommandAsync<EmptyCommand, AbortResult>(PotentiostatTopics.AbortVerb, _ready.Guard<EmptyCommand, AbortResult>(AbortAsync)).ConfigureAwait(false);
        await bus.MapCommandAsync<CellCommand, CellResult>(PotentiostatTopics.CellVerb, _ready.Guard<CellCommand, CellResult>(CellAsync)).ConfigureAwait(false);
        await bus.MapCommandAsync<ContactCheckCommand, ContactCheckResult>(PotentiostatTopics.ContactCheckVerb,
            _ready.Guard<ContactCheckCommand, ContactCheckResult>(ContactCheckAsync)).ConfigureAwait(false);
        // Replay reads files, not the device: it does not wait for the driver and runs beside a technique.
        await bus.MapCommandAsync<ReplayCommand, ReplayResult>(PotentiostatTopics.ReplayVerb, ReplayAsync).ConfigureAwait(false);
        await bus.SubscribeAsync(StageTopics.PositionTopic(bus.Instrument), OnStagePositionAsync, MqttQualityOfServiceLevel.AtMostOnce).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        try
        {
            _driver = createDriver();
            var version = await _driver.GetVersionAsync(stoppingToken).ConfigureAwait(false);
            LogStarted(logger, _driver.Name, version);
        }
        catch (DeviceException ex)
        {
            LogDriverFailed(logger, ex.Message);
            await _ready.FailAsync(_driver, "the potentiostat driver", ex.Message).ConfigureAwait(false);
            throw;
        }
        _ready.Open();
        await bus.SetStatusAsync(StorageStatus(SweepRawCurves(null)), _driver.Name, stoppingToken).ConfigureAwait(false);
        try
        {
            await TelemetryLoopAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await _driver.AbortAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (DeviceException ex)
            {
                // A device that is gone cannot be stopped; closing the port is all that is left.
                LogTechniqueFailed(logger, "abort at shutdown", ex.Message);
            }
            // Let a running technique see the abort and release the device before it is closed.
            if (await _technique.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false))
            {
                _technique.Release();
            }
            await _driver.DisposeAsync().ConfigureAwait(false);
            recorder.Dispose();
        }
    }

    private Task OnStagePositionAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (message.TryRead<StagePositionTelemetry>(logger, "the pipette position is left as it was", out var p))
        {
            // The stage's periodic telemetry and its end-of-move report can cross: the tracker drops the older reading.
            position.Report(p.TimestampUtc, new PipettePosition(p.XUm, p.YUm, p.ZUm));
        }
        return Task.CompletedTask;
    }

    private async Task<TechniqueFinishedEvent> CvAsync(CvCommand command, CancellationToken cancellationToken)
    {
        var request = new CvRequest(command.StartV, command.Vertex1V, command.Vertex2V, command.StepV, command.ScanRatesVPerS, command.Cycles, command.CurrentRangeA);
        Refuse("cv", _driver.Limits.Check(request));
        await EnterAsync("cv").ConfigureAwait(false);
        var cycleSamples = (int)Math.Round((Math.Abs(command.Vertex1V - command.StartV) + Math.Abs(command.Vertex2V - command.Vertex1V) + Math.Abs(command.StartV - command.Vertex2V)) / command.StepV);
        var publisher = NewPublisher(command.ScanId, command.Pixel, PotentiostatTopics.CvData, command.ScanRatesVPerS.Count, cycleSamples,
            (long)cycleSamples * command.Cycles + 1);
        return await RunAsync("cv", command.ScanId, command.Pixel, _driver.RunCvAsync(request, _stopping), publisher, null, 0).ConfigureAwait(false);
    }

    private async Task<TechniqueFinishedEvent> ChargeDischargeAsync(ChargeDischargeCommand command, CancellationToken cancellationToken)
    {
        var request = new ChargeDischargeRequest(Math.Abs(command.ChargeCurrentA), Math.Abs(command.DischargeCurrentA), command.UpperCutoffV,
            command.LowerCutoffV, command.Cycles, command.IntervalS, command.MaxDurationS, command.CurrentRangeA);
        Refuse("cp", _driver.Limits.Check(request));
        await EnterAsync("cp").ConfigureAwait(false);
        // A half-cycle's length is known only when it reaches its cut-off: the last chunk carries the count.
        var publisher = NewPublisher(command.ScanId, command.Pixel, PotentiostatTopics.ChargeDischargeData, 2 * command.Cycles, 0, null);
        return await RunAsync("cp", command.ScanId, command.Pixel, _driver.RunChargeDischargeAsync(request, _stopping), publisher, null, 0)
            .ConfigureAwait(false);
    }

    private async Task<System.Text.Json.JsonElement> HoldAsync(HoldCommand command, CancellationToken cancellationToken)
    {
        var request = new HoldRequest(command.PotentialV, command.IntervalS, command.DurationS, command.CurrentRangeA);
        Refuse("hold", _driver.Limits.Check(request));
        await EnterAsync("hold").ConfigureAwait(false);
        long? expected = command.DurationS is { } d ? (long)Math.Floor(d / command.IntervalS + 1e-9) + 1 : null;
        var publisher = command.ScanId is { } scanId ? NewPublisher(scanId, command.Pixel, PotentiostatTopics.HoldData, 1, 0, expected) : null;
        var start = time.GetUtcNow();
        var run = RunAsync("hold", command.ScanId, command.Pixel, _driver.RunHoldAsync(request, _stopping), publisher, command.ContactThresholdA, command.PotentialV);
        if (command.DurationS is null)
        {
            // Until stopped: the caller (an approach) goes on while the hold runs; its end is the technique-finished event.
            _ = run.ContinueWith(t => LogHoldEnded(logger, t.Exception?.GetBaseException().Message ?? t.Result.Outcome), TaskScheduler.Default);
            return SeccmJson.ToElement(new HoldStartedResult(start, command.PotentialV, command.IntervalS));
        }
        return SeccmJson.ToElement(await run.ConfigureAwait(false));
    }

    /// <summary>
    /// <c>cmd/contact-check</c>: waits until the stage's position reports have reached the asked stage time and the
    /// contact hold has sampled after them, then says whether it saw contact. A late position telemetry only delays the
    /// answer; it does not change it.
    /// </summary>
    private async Task<ContactCheckResult> ContactCheckAsync(ContactCheckCommand command, CancellationToken cancellationToken)
    {
        var hold = Volatile.Read(ref _contactHold)
            ?? throw CommandException.Refused("contact-check: no hold with a contact threshold is running (send it before the approach). Nothing was applied.");
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, hold.Ended);
        try
        {
            var report = await position.ReachedAsync(command.StageTimeUtc, watch.Token).ConfigureAwait(false);
            var contact = await hold.ContactUpToAsync(report, watch.Token).ConfigureAwait(false);
            return new ContactCheckResult(contact is not null, contact);
        }
        catch (OperationCanceledException) when (hold.Ended.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new CommandException(ErrorCodes.DeviceError,
                $"contact-check: the hold ended before the stage's positions up to {command.StageTimeUtc:O} reached it; contact unknown");
        }
    }

    private async Task<AbortResult> AbortAsync(EmptyCommand command, CancellationToken cancellationToken)
    {
        var running = Running;
        await Device(() => _driver.AbortAsync(cancellationToken)).ConfigureAwait(false);
        // Reply only once the technique has really ended, so the next command does not find the device busy.
        if (running is not null && await _technique.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false))
        {
            _technique.Release();
        }
        return new AbortResult(running);
    }

    private async Task<CellResult> CellAsync(CellCommand command, CancellationToken cancellationToken)
    {
        await EnterAsync("cell").ConfigureAwait(false);
        try
        {
            await Device(() => _driver.SetCellAsync(command.On, cancellationToken)).ConfigureAwait(false);
            lock (_liveGate)
            {
                _cellOn = command.On;
            }
            return new CellResult(command.On);
        }
        finally
        {
            Volatile.Write(ref _running, null);
            _technique.Release();
        }
    }

    /// <summary>Applies the raw-curve retention policy (keeping the scan being written) and says so in the status.</summary>
    private RawCurveStorage SweepRawCurves(string? activeScanId)
    {
        var storage = _retention.Sweep(activeScanId);
        _sweptFor = activeScanId;
        return storage;
    }

    private static System.Text.Json.JsonElement StorageStatus(RawCurveStorage storage) => SeccmJson.ToElement(new PotentiostatStatusDetails(storage));

    private CurvePublisher NewPublisher(string scanId, int pixel, string technique, int rates, int samplesPerCycle, long? expected)
    {
        if (scanId != _sweptFor)
        {
            // A scan starts writing: the time to make room for it.
            _ = bus.SetStatusAsync(StorageStatus(SweepRawCurves(scanId)), _driver.Name, _stopping).AsTask();
        }
        var topic = DataTopic(scanId, technique);
        return new CurvePublisher(chunk => RecordAndPublishAsync(topic, chunk), scanId, pixel, technique, rates, samplesPerCycle, expected,
            options.ChunkSamples, time, TakeOf(scanId, pixel));
    }

    /// <summary>
    /// Which measurement of the pixel this is (a pixel measured again, for whatever reason, is a later take): one more than
    /// the latest take in the raw data, which outlives this process. The takes this process gave the current scan's pixels
    /// count too, so a raw file that cannot be read never hands out the same take twice.
    /// </summary>
    private int TakeOf(string scanId, int pixel)
    {
        var recorded = 0;
        try
        {
            recorded = recorder.NextTake(scanId, pixel);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            LogRecordingFailed(logger, scanId, recorder.PathOf(scanId), ex.Message);
        }
        lock (_takes)
        {
            if (_takesScan != scanId)
            {
                _takes.Clear();
                _takesScan = scanId;
            }
            var take = Math.Max(recorded, _takes.TryGetValue(pixel, out var last) ? last + 1 : 0);
            _takes[pixel] = take;
            return take;
        }
    }

    private string DataTopic(string scanId, string technique) => technique switch
    {
        PotentiostatTopics.CvData => PotentiostatTopics.CvDataTopic(bus.Instrument, scanId),
        PotentiostatTopics.ChargeDischargeData => PotentiostatTopics.ChargeDischargeDataTopic(bus.Instrument, scanId),
        _ => PotentiostatTopics.HoldDataTopic(bus.Instrument, scanId),
    };

    private ValueTask RecordAndPublishAsync(string topic, CurveChunk chunk)
    {
        try
        {
            recorder.Append(chunk);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The measurement goes on without its raw copy (the broker still gets it); said once per scan, not per chunk.
            if (Interlocked.Exchange(ref _recordingFailedScan, chunk.ScanId) != chunk.ScanId)
            {
                LogRecordingFailed(logger, chunk.ScanId, recorder.PathOf(chunk.ScanId), ex.Message);
            }
        }
        return PublishDataAsync(topic, chunk);
    }

    private async ValueTask PublishDataAsync(string topic, CurveChunk chunk)
    {
        await bus.PublishAsync(topic, chunk, MqttQualityOfServiceLevel.AtLeastOnce, cancellationToken: _stopping).ConfigureAwait(false);
        // Back-pressure: the measurement waits for the broker rather than piling up messages in memory.
        while (bus.QueuedMessages > options.MaxQueuedDataMessages)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(2), TimeProvider.System, _stopping).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// <c>cmd/replay</c>: publishes the latest take of each listed pixel again, chunk by chunk as recorded (same payloads,
    /// same topics), so readers that deduplicate by (scan, pixel, rate, chunk) keep what they had and fill what they lacked.
    /// </summary>
    private async Task<ReplayResult> ReplayAsync(ReplayCommand command, CancellationToken cancellationToken)
    {
        var sent = new List<int>();
        var missing = new List<int>();
        var chunks = 0;
        CurveLog? file;
        try
        {
            file = recorder.OpenReader(command.ScanId);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CommandException(ErrorCodes.Internal, $"replay of scan '{command.ScanId}': {recorder.PathOf(command.ScanId)}: {ex.Message}");
        }
        if (file is null)
        {
            LogReplayed(logger, command.ScanId, 0, 0, command.Pixels.Count, "no raw-data file " + recorder.PathOf(command.ScanId));
            return new ReplayResult(command.ScanId, [], 0, [.. command.Pixels.Distinct().Order()]);
        }
        using (file)
        {
            foreach (var pixel in command.Pixels.Distinct().Order())
            {
                IReadOnlyList<CurveChunk> take;
                try
                {
                    take = file.ReadPixel(pixel);
                }
                catch (Exception ex) when (ex is IOException or InvalidDataException)
                {
                    LogReplayUnreadable(logger, command.ScanId, pixel, ex.Message);
                    take = [];
                }
                if (take.Count == 0)
                {
                    missing.Add(pixel);
                    continue;
                }
                foreach (var chunk in take)
                {
                    await PublishDataAsync(DataTopic(command.ScanId, chunk.Technique), chunk).ConfigureAwait(false);
                    chunks++;
                }
                sent.Add(pixel);
            }
        }
        LogReplayed(logger, command.ScanId, sent.Count, chunks, missing.Count, file.Path);
        return new ReplayResult(command.ScanId, sent, chunks, missing);
    }

    /// <summary>Runs one technique to its end, publishing data, contact and the finished event; never leaves the device busy.</summary>
    private async Task<TechniqueFinishedEvent> RunAsync(string technique, string? scanId, int pixel, IAsyncEnumerable<SampleChunk> samples,
        CurvePublisher? publisher, double? contactThresholdA, double holdPotentialV)
    {
        var outcome = TechniqueOutcomes.Completed;
        string? detail = null;
        long count = 0;
        var flags = SampleFlags.None;
        var contactSent = false;
        var start = time.GetUtcNow();
        var hold = contactThresholdA is null ? null : new ContactHold();
        Volatile.Write(ref _contactHold, hold);
        try
        {
            lock (_liveGate)
            {
                _cellOn = true;
            }
            hold?.Asking(NewestPositionReport);
            await foreach (var chunk in samples.ConfigureAwait(false))
            {
                ContactEvent? contactNow = null;
                count += chunk.Count;
                flags |= chunk.Flags;
                Observe(chunk);
                if (technique == "cv")
                {
                    WriteCurveSamples(technique, scanId, chunk);
                }
                if (contactThresholdA is { } threshold && !contactSent)
                {
                    for (var k = 0; k < chunk.Count; k++)
                    {
                        if (Math.Abs(chunk.CurrentA[k]) > threshold)
                        {
                            contactSent = true;
                            // The height is where the meniscus first touched, not where the still-moving pipette is now.
                            contactNow = new ContactEvent(time.GetUtcNow(), chunk.CurrentA[k], threshold, holdPotentialV, chunk.TimeS[k],
                                chunk.ContactZUm ?? chunk.PipetteZUm);
                            await bus.PublishAsync(PotentiostatTopics.ContactTopic(bus.Instrument), contactNow,
                                MqttQualityOfServiceLevel.AtLeastOnce, cancellationToken: _stopping).ConfigureAwait(false);
                            LogContact(logger, chunk.CurrentA[k], threshold, chunk.TimeS[k]);
                            break;
                        }
                    }
                }
                if (publisher is not null)
                {
                    await publisher.AddAsync(chunk).ConfigureAwait(false);
                }
                hold?.Sampled(contactNow);
                hold?.Asking(NewestPositionReport);
            }
        }
        catch (PotentiostatAbortedException ex)
        {
            outcome = TechniqueOutcomes.Aborted;
            detail = ex.Message;
        }
        catch (DeviceException ex)
        {
            outcome = TechniqueOutcomes.Failed;
            detail = ex.Message;
            LogTechniqueFailed(logger, technique, ex.Message);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            outcome = TechniqueOutcomes.Aborted;
            detail = "the service is stopping";
        }
        finally
        {
            lock (_liveGate)
            {
                _cellOn = false;
            }
            if (hold is not null)
            {
                Interlocked.CompareExchange(ref _contactHold, null, hold);
                hold.End();
            }
            Volatile.Write(ref _running, null);
            _technique.Release();
        }
        if (publisher is not null)
        {
            await publisher.CompleteAsync().ConfigureAwait(false);
        }
        // The device's marks on samples (overload, underload, NaN, timing): the scan decides whether the pixel is measured again.
        var finished = new TechniqueFinishedEvent(time.GetUtcNow(), technique, outcome, scanId, pixel, count, publisher?.MessagesPublished ?? 0, detail,
            flags.ToNames())
        {
            Take = publisher?.Take ?? 0,
        };
        await bus.PublishAsync(PotentiostatTopics.TechniqueFinishedTopic(bus.Instrument), finished, MqttQualityOfServiceLevel.AtLeastOnce,
            cancellationToken: CancellationToken.None).ConfigureAwait(false);
        LogFinished(logger, technique, outcome, count, (time.GetUtcNow() - start).TotalSeconds);
        if (outcome == TechniqueOutcomes.Failed)
        {
            throw new CommandException(ErrorCodes.DeviceError, $"{technique} failed after {count} sample(s): {detail}");
        }
        return finished;
    }

    private void Observe(SampleChunk chunk)
    {
        lock (_liveGate)
        {
            _lastPotentialV = chunk.PotentialV[^1];
            _lastCurrentA = chunk.CurrentA[^1];
            foreach (var i in chunk.CurrentA)
            {
                _sumCurrentA += i;
            }
            _samplesSinceTelemetry += chunk.Count;
        }
    }

    /// <summary>
    /// A CV on an accelerated clock can start and end between two telemetry ticks: keep a thinned copy of every
    /// curve (about 32 points a chunk) so the dashboards can draw the latest CVs.
    /// </summary>
    private void WriteCurveSamples(string technique, string? scanId, SampleChunk chunk)
    {
        const int PointsPerChunk = 32;
        var stride = Math.Max(1, chunk.Count / PointsPerChunk);
        var now = time.GetUtcNow();
        for (int k = 0, n = 0; k < chunk.Count; k += stride, n++)
        {
            sink.Write(Points.New(Measurements.PotentiostatSample, bus.Instrument, bus.Service, now.AddTicks(n), scanId, technique)
                .Field("current_a", chunk.CurrentA[k]).Field("potential_v", chunk.PotentialV[k])
                .Field("scan_rate_v_s", chunk.ScanRateVPerS).Field("time_s", chunk.TimeS[k]));
        }
    }

    private async Task TelemetryLoopAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(1 / options.TelemetryHz);
        while (!stoppingToken.IsCancellationRequested)
        {
            CurrentTelemetry telemetry;
            var now = time.GetUtcNow();
            lock (_liveGate)
            {
                telemetry = new CurrentTelemetry(now, Running ?? "idle", _cellOn, _lastPotentialV, _lastCurrentA,
                    _samplesSinceTelemetry > 0 ? _sumCurrentA / _samplesSinceTelemetry : null, _samplesSinceTelemetry);
                _sumCurrentA = 0;
                _samplesSinceTelemetry = 0;
            }
            if (telemetry.SamplesSinceLast > 0)
            {
                sink.Write(Points.New(Measurements.PotentiostatSample, bus.Instrument, bus.Service, now, technique: telemetry.Technique)
                    .Field("current_a", telemetry.CurrentA ?? 0).Field("mean_current_a", telemetry.MeanCurrentA ?? 0)
                    .Field("potential_v", telemetry.PotentialV ?? 0).Field("samples", telemetry.SamplesSinceLast));
            }
            await bus.PublishAsync(PotentiostatTopics.CurrentTopic(bus.Instrument), telemetry, MqttQualityOfServiceLevel.AtMostOnce,
                cancellationToken: stoppingToken).ConfigureAwait(false);
            try
            {
                await Task.Delay(period, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task EnterAsync(string technique)
    {
        if (!await _technique.WaitAsync(0).ConfigureAwait(false))
        {
            throw new CommandException(ErrorCodes.Busy, $"{technique} refused: a {Running ?? "technique"} is running; send abort first. Nothing was applied.");
        }
        Volatile.Write(ref _running, technique);
    }

    private static void Refuse(string technique, IReadOnlyList<string> errors)
    {
        if (errors.Count > 0)
        {
            throw CommandException.Refused($"{technique} refused, outside the device limits: {string.Join(" ", errors)} Nothing was applied.");
        }
    }

    private static async Task Device(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (DeviceException ex)
        {
            throw new CommandException(ErrorCodes.DeviceError, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Potentiostat driver {Driver} ready ({Version})")]
    private static partial void LogStarted(ILogger logger, string driver, string version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Potentiostat driver failed to start: {Message}")]
    private static partial void LogDriverFailed(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Contact: |{CurrentA} A| > {ThresholdA} A at {HoldTimeS} s into the hold")]
    private static partial void LogContact(ILogger logger, double currentA, double thresholdA, double holdTimeS);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Technique} failed: {Message}")]
    private static partial void LogTechniqueFailed(ILogger logger, string technique, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Technique} {Outcome}: {Samples} samples in {Seconds:0.###} s")]
    private static partial void LogFinished(ILogger logger, string technique, string outcome, long samples, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Scan {ScanId}: cannot keep the raw curves in {Path}: {Message}; the chunks are still published")]
    private static partial void LogRecordingFailed(ILogger logger, string scanId, string path, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scan {ScanId}: replayed {Pixels} pixel(s) in {Chunks} chunk(s); {Missing} pixel(s) without a record ({Source})")]
    private static partial void LogReplayed(ILogger logger, string scanId, int pixels, int chunks, int missing, string source);

    [LoggerMessage(Level = LogLevel.Error, Message = "Scan {ScanId} pixel {Pixel}: its raw curves cannot be read for a replay: {Message}")]
    private static partial void LogReplayUnreadable(ILogger logger, string scanId, int pixel, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Hold until stopped ended: {Outcome}")]
    private static partial void LogHoldEnded(ILogger logger, string outcome);
}
