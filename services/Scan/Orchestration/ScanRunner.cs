using Microsoft.Extensions.Logging;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Messaging.Commands;
using Seccm.Scan.Checkpoints;
using Seccm.Scan.Raster;

namespace Seccm.Scan.Orchestration;

/// <summary>
/// Runs one scan at a time: pixel after pixel (retract, move, approach, settle, measure, retract), a checkpoint
/// after every pixel, pauses at a safe point on an interlock or a request, resumes by command or by itself when
/// the recipe allows, and always leaves the circulation pump on when it stops.
/// </summary>
internal sealed partial class ScanRunner(
    IScanInstrument instrument,
    IInterlocks interlocks,
    IScanEvents events,
    CheckpointStore store,
    TimeProvider time,
    ILogger<ScanRunner> logger)
{
    private static readonly TimeSpan InterlockPoll = TimeSpan.FromMilliseconds(200);
    private const int MaxDisturbedRetries = 3;

    /// <summary>How far the Z read back after a move to the start height may be from it (a piezo settles within nanometres).</summary>
    internal const double StartHeightToleranceUm = 0.1;
    private readonly Lock _gate = new();
    private ScanCheckpoint? _checkpoint;
    private ScanProgress? _progress;
    private CancellationTokenSource? _abort;
    private readonly CancellationTokenSource _shutdown = new();
    private Task? _loop;
    private string? _pauseRequest;
    private bool _resumeRequested;
    private long _runStartedTimestamp;
    private int _pixelsDoneThisRun;
    private bool _lastPixelWithoutContact;
    private bool _lastAttemptFailed;

    public ScanProgress? Progress
    {
        get { lock (_gate) return _progress; }
    }

    public Task? Loop => _loop;

    public async Task<ScanProgress> StartAsync(Recipe recipe, string scanId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_progress?.IsActive == true)
            {
                throw new CommandException(Contracts.Messages.ErrorCodes.Busy,
                    $"Scan {_progress.ScanId} is {_progress.State.ToString().ToLowerInvariant()}; abort it before starting another.");
            }
        }
        var verdict = interlocks.Check(recipe.Glovebox ?? new GloveboxLimits());
        if (!verdict.Safe)
        {
            throw CommandException.Refused($"Cannot start scan: {verdict.Reason}.");
        }
        var checkpoint = new ScanCheckpoint(scanId, recipe, ScanState.Running, time.GetUtcNow(), []);
        store.Save(checkpoint);
        await BeginAsync(checkpoint, cancellationToken).ConfigureAwait(false);
        return Progress!;
    }

    /// <summary>Continues the scan of a checkpoint left by a previous process.</summary>
    public async Task ResumeFromCheckpointAsync(ScanCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        LogResumingCheckpoint(logger, checkpoint.ScanId, checkpoint.Done.Count);
        await BeginAsync(checkpoint, cancellationToken).ConfigureAwait(false);
    }

    public ScanProgress Pause(string reason)
    {
        lock (_gate)
        {
            if (_progress?.IsActive != true)
            {
                throw CommandException.Refused("No scan is running.");
            }
            _pauseRequest = reason;
            _resumeRequested = false;
            if (_progress.State == ScanState.Running)
            {
                _progress = _progress with { State = ScanState.Pausing, PauseReason = reason, UpdatedUtc = time.GetUtcNow() };
            }
            return _progress;
        }
    }

    public ScanProgress Resume()
    {
        lock (_gate)
        {
            if (_progress?.IsActive != true)
            {
                throw CommandException.Refused("No scan to resume.");
            }
            _pauseRequest = null;
            _resumeRequested = true;
            return _progress;
        }
    }

    public async Task<ScanProgress> AbortAsync()
    {
        CancellationTokenSource? abort;
        Task? loop;
        lock (_gate)
        {
            if (_progress?.IsActive != true)
            {
                throw CommandException.Refused("No scan is running.");
            }
            abort = _abort;
            loop = _loop;
        }
        if (abort is not null)
        {
            await abort.CancelAsync().ConfigureAwait(false);
        }
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }
        return Progress!;
    }

    private async Task BeginAsync(ScanCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        var (nx, ny, pixels) = RasterPlan.Build(checkpoint.Recipe);
        lock (_gate)
        {
            _checkpoint = checkpoint;
            _abort = new CancellationTokenSource();
            _pauseRequest = checkpoint.State == ScanState.Paused ? checkpoint.PauseReason ?? "paused before the restart" : null;
            _resumeRequested = false;
            _runStartedTimestamp = time.GetTimestamp();
            _pixelsDoneThisRun = 0;
            _progress = new ScanProgress(checkpoint.ScanId, checkpoint.Recipe.Name, ScanState.Running, checkpoint.Done.Count, pixels.Count,
                checkpoint.Done.Count(p => !p.Contact), null, null, checkpoint.StartedUtc, time.GetUtcNow());
        }
        await events.StartedAsync(new ScanStartedEvent(checkpoint.ScanId, checkpoint.Recipe, nx, ny, pixels, checkpoint.StartedUtc), cancellationToken)
            .ConfigureAwait(false);
        await events.ProgressAsync(_progress, cancellationToken).ConfigureAwait(false);
        var abortToken = _abort.Token;
        _loop = Task.Run(() => RunAsync(pixels, abortToken), CancellationToken.None);
    }

    /// <summary>
    /// The process is stopping: leave the scan where it is. The checkpoint still says running, so the next
    /// process resumes it; meanwhile the glovebox sees the scan service offline and turns the pump back on.
    /// </summary>
    public async Task SuspendAsync()
    {
        await _shutdown.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(false);
        }
    }

    private async Task RunAsync(IReadOnlyList<PixelSpec> pixels, CancellationToken abortOnly)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(abortOnly, _shutdown.Token);
        var abort = linked.Token;
        var checkpoint = _checkpoint!;
        var recipe = checkpoint.Recipe;
        var done = checkpoint.Done.ToDictionary(p => p.Index);
        var finalState = ScanState.Completed;
        try
        {
            await EnsurePumpAsync(on: false, $"scan {checkpoint.ScanId} imaging", abort).ConfigureAwait(false);
            foreach (var pixel in pixels)
            {
                if (done.ContainsKey(pixel.Index))
                {
                    continue;
                }
                var disturbed = 0;
                while (true)
                {
                    await WaitUntilClearAsync(recipe, abort).ConfigureAwait(false);
                    try
                    {
                        var record = await MeasurePixelAsync(checkpoint.ScanId, pixel, recipe, abort).ConfigureAwait(false);
                        done[pixel.Index] = record;
                        await RecordAsync(pixel, record, done, abort).ConfigureAwait(false);
                        break;
                    }
                    catch (PixelDisturbedException) when (++disturbed <= MaxDisturbedRetries && !abort.IsCancellationRequested)
                    {
                        // The broker connection dropped while this pixel was measured: its contact event or curve
                        // may be lost. Measured again at once (the link is back, or the next request waits for it).
                        LogPixelDisturbed(logger, pixel.Index, disturbed);
                    }
                    catch (PixelDisturbedException ex) when (!abort.IsCancellationRequested)
                    {
                        disturbed = 0;
                        LogPixelFailed(logger, pixel.Index, ex.Message);
                        RequestPause($"pixel {pixel.Index} failed: {ex.Message}");
                    }
                    catch (Exception ex) when (ex is CommandException or TimeoutException && !abort.IsCancellationRequested)
                    {
                        // A service went away or refused mid-pixel: get to a safe point and wait; the pixel is
                        // measured again after resuming, so it is neither lost nor recorded twice.
                        LogPixelFailed(logger, pixel.Index, ex.Message);
                        _lastAttemptFailed = true;
                        await TryRetractAsync(recipe).ConfigureAwait(false);
                        // A service that went offline under the request explains the failure by itself, even when it
                        // is back by now (a broker connection blip: offline and online again within a second): the
                        // pixel waits for it (the next WaitUntilClearAsync) and is measured again, no operator needed.
                        if (ex is not CommandTargetOfflineException && interlocks.Check(recipe.Glovebox ?? new GloveboxLimits()).Safe)
                        {
                            RequestPause($"pixel {pixel.Index} failed: {ex.Message}");
                        }
                        // Otherwise the interlock that explains the failure (a service offline, a device fault) holds
                        // the scan, and it resumes as the recipe says when that clears.
                    }
                }
            }
        }
        catch (Exception) when (_shutdown.IsCancellationRequested && !abortOnly.IsCancellationRequested)
        {
            LogSuspended(logger, checkpoint.ScanId, done.Count);
            return;
        }
        catch (Exception) when (abort.IsCancellationRequested)
        {
            finalState = ScanState.Aborted;
            await TryRetractAsync(recipe).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            finalState = ScanState.Failed;
            LogScanFailed(logger, ex, checkpoint.ScanId);
            await TryRetractAsync(recipe).ConfigureAwait(false);
        }
        await FinishAsync(finalState, done).ConfigureAwait(false);
    }

    private async Task<PixelRecord> MeasurePixelAsync(string scanId, PixelSpec pixel, Recipe recipe, CancellationToken abort)
    {
        var approach = recipe.Approach ?? new ApproachSpec();
        var epoch = instrument.LinkEpoch;
        // The first pixel of a run starts from the recipe's absolute height (the stage may be anywhere, even at the
        // top of its travel); later ones from the retract that ended the previous pixel.
        // So does the retry of a failed pixel: a stage whose controller fell silent mid-approach may have gone on down
        // into the sample, and an approach from there is in contact at once, pixel after pixel.
        var retried = _lastAttemptFailed;
        var startZ = _pixelsDoneThisRun == 0 || _lastPixelWithoutContact || retried ? approach.StartZUm : (double?)null;
        await MoveToStartAsync(pixel, startZ, abort).ConfigureAwait(false);
        _lastAttemptFailed = false;
        var outcome = await instrument.ApproachAsync(scanId, pixel, approach, abort).ConfigureAwait(false);
        if (!outcome.Contact && retried)
        {
            // The first approach after a fault found nothing: the stage, the potentiostat's hold or the contact event
            // may still have been recovering. A pixel of a film is not recorded without contact on that evidence
            // alone: once more from the start height, read back.
            LogApproachAgain(logger, pixel.Index, outcome.Reason);
            await instrument.RetractAsync(recipe.RetractUm, abort).ConfigureAwait(false);
            await MoveToStartAsync(pixel, approach.StartZUm, abort).ConfigureAwait(false);
            outcome = await instrument.ApproachAsync(scanId, pixel, approach, abort).ConfigureAwait(false);
        }
        _lastPixelWithoutContact = !outcome.Contact;
        if (!outcome.Contact)
        {
            LogNoContact(logger, pixel.Index, outcome.Reason);
            await instrument.RetractAsync(recipe.RetractUm, abort).ConfigureAwait(false);
            ThrowIfDisturbed(epoch, pixel);
            return new PixelRecord(pixel.Index, false, null);
        }
        await instrument.SettleAsync(recipe.SettleS, abort).ConfigureAwait(false);
        var (skipped, take) = await MeasureValidAsync(scanId, pixel, recipe, abort).ConfigureAwait(false);
        if (outcome.ZUm is { } contactZ)
        {
            // Retract to a height above where the meniscus touched, not above where the stage stopped: an
            // approach that overshoots by more than the retract would otherwise start the next pixel in contact.
            await instrument.MoveXyAsync(pixel.XUm, pixel.YUm, contactZ + recipe.RetractUm, abort).ConfigureAwait(false);
        }
        else
        {
            await instrument.RetractAsync(recipe.RetractUm, abort).ConfigureAwait(false);
        }
        ThrowIfDisturbed(epoch, pixel);
        return new PixelRecord(pixel.Index, true, outcome.ZUm, skipped, take);
    }

    /// <summary>
    /// Measures the pixel as the recipe says for curves with samples the device flagged as no valid current (overload,
    /// underload, NaN): measured again while still in contact (up to the recipe's count), or skipped. Returns the flags
    /// the pixel is skipped for, null when it is not, and the take of the last measurement.
    /// </summary>
    private async Task<(string? Skipped, int Take)> MeasureValidAsync(string scanId, PixelSpec pixel, Recipe recipe, CancellationToken abort)
    {
        var technique = recipe.Technique!;
        for (var remeasures = 0; ; remeasures++)
        {
            var (flags, take) = await instrument.MeasureAsync(scanId, pixel, recipe, abort).ConfigureAwait(false);
            var invalid = SampleFlagNames.FromBits(SampleFlagNames.ToBits(flags) & SampleFlagNames.InvalidCurrentBits);
            if (invalid is null || technique.OnInvalidSamples == InvalidSampleAction.Flag)
            {
                return (null, take);
            }
            if (technique.OnInvalidSamples == InvalidSampleAction.Skip)
            {
                LogInvalidSamples(logger, pixel.Index, invalid, "skipped");
                return (invalid, take);
            }
            if (remeasures >= technique.MaxRemeasures)
            {
                LogInvalidSamples(logger, pixel.Index, invalid, $"kept flagged after {remeasures} remeasure(s)");
                return (null, take);
            }
            LogInvalidSamples(logger, pixel.Index, invalid, "measured again");
        }
    }

    /// <summary>
    /// Moves over the pixel; with a start height, only an approach from that height read back is trusted (after a
    /// fault the pipette may be anywhere, even in the sample, and an approach from there finds no contact).
    /// </summary>
    private async Task MoveToStartAsync(PixelSpec pixel, double? startZ, CancellationToken abort)
    {
        var z = await instrument.MoveXyAsync(pixel.XUm, pixel.YUm, startZ, abort).ConfigureAwait(false);
        if (startZ is { } wanted && !(Math.Abs(z - wanted) <= StartHeightToleranceUm))
        {
            _lastAttemptFailed = true;
            throw new CommandException(Contracts.Messages.ErrorCodes.DeviceError, FormattableString.Invariant(
                $"pixel {pixel.Index}: after the move to the start height Z = {wanted} um the stage reads back Z = {z} um; not approaching from an unknown height"));
        }
    }

    private void ThrowIfDisturbed(long epochBefore, PixelSpec pixel)
    {
        if (instrument.LinkEpoch != epochBefore)
        {
            throw new PixelDisturbedException(
                $"the broker connection dropped while pixel {pixel.Index} was measured ({MaxDisturbedRetries} attempts)");
        }
    }

    private sealed class PixelDisturbedException(string message) : Exception(message);

    private async Task RecordAsync(PixelSpec pixel, PixelRecord record, Dictionary<int, PixelRecord> done, CancellationToken abort)
    {
        var checkpoint = _checkpoint! with { Done = [.. done.Values.OrderBy(p => p.Index)] };
        _checkpoint = checkpoint;
        if (done.Count % checkpoint.Recipe.CheckpointEveryPixels == 0 || done.Count == Progress!.PixelsTotal)
        {
            store.Save(checkpoint);
        }
        ScanProgress progress;
        lock (_gate)
        {
            _pixelsDoneThisRun++;
            var elapsed = time.GetElapsedTime(_runStartedTimestamp);
            var remaining = _progress!.PixelsTotal - done.Count;
            var eta = elapsed.TotalSeconds / _pixelsDoneThisRun * remaining;
            _progress = _progress with
            {
                PixelsDone = done.Count,
                PixelsWithoutContact = done.Values.Count(p => !p.Contact),
                EtaS = eta,
                CurrentPixel = pixel.Index,
                UpdatedUtc = time.GetUtcNow(),
            };
            progress = _progress;
        }
        await events.PixelDoneAsync(new PixelDoneEvent(checkpoint.ScanId, pixel.Index, pixel.Ix, pixel.Iy, pixel.XUm, pixel.YUm,
            record.Contact, record.ContactZUm, time.GetUtcNow(), record.Skipped) { Take = record.Take }, abort).ConfigureAwait(false);
        await events.ProgressAsync(progress, abort).ConfigureAwait(false);
    }

    private void RequestPause(string reason)
    {
        lock (_gate)
        {
            _pauseRequest ??= reason;
            _resumeRequested = false;
        }
    }

    /// <summary>Blocks between pixels while paused or while an interlock holds; the pipette is retracted here.</summary>
    private async Task WaitUntilClearAsync(Recipe recipe, CancellationToken abort)
    {
        var limits = recipe.Glovebox ?? new GloveboxLimits();
        var paused = false;
        string? pausedFor = null;
        string? interlockReason = null;
        while (true)
        {
            abort.ThrowIfCancellationRequested();
            var verdict = interlocks.Check(limits);
            string? request;
            bool resume;
            lock (_gate)
            {
                request = _pauseRequest;
                resume = _resumeRequested;
            }
            if (!verdict.Safe)
            {
                interlockReason = verdict.Reason;
            }
            var blockedBy = request ?? (verdict.Safe ? null : $"interlock: {verdict.Reason}");
            if (interlockReason is not null && verdict.Safe && !recipe.AutoResume && !resume)
            {
                blockedBy = $"interlock cleared ({interlockReason}); waiting for resume";
            }
            if (blockedBy is null)
            {
                if (paused)
                {
                    await EnsurePumpAsync(on: false, $"scan {_checkpoint!.ScanId} resumed", abort).ConfigureAwait(false);
                    await ChangeStateAsync(ScanState.Running, resume ? "resumed by command" : "interlock cleared", abort).ConfigureAwait(false);
                }
                lock (_gate)
                {
                    _resumeRequested = false;
                }
                return;
            }
            if (!paused || pausedFor != blockedBy)
            {
                var first = !paused;
                paused = true;
                pausedFor = blockedBy;
                await ChangeStateAsync(ScanState.Paused, blockedBy, abort).ConfigureAwait(false);
                if (first)
                {
                    // Nothing is imaged while paused, so the purifier runs (a bad atmosphere needs it most).
                    await TrySetPumpAsync(on: true, $"scan {_checkpoint!.ScanId} paused: {blockedBy}").ConfigureAwait(false);
                }
            }
            if (resume && request is null && !verdict.Safe)
            {
                lock (_gate)
                {
                    _resumeRequested = false;
                }
            }
            await Task.Delay(InterlockPoll, time, abort).ConfigureAwait(false);
        }
    }

    private async Task ChangeStateAsync(ScanState state, string reason, CancellationToken cancellationToken)
    {
        ScanProgress progress;
        lock (_gate)
        {
            _progress = _progress! with
            {
                State = state,
                PauseReason = state == ScanState.Paused ? reason : null,
                UpdatedUtc = time.GetUtcNow(),
            };
            progress = _progress;
            _checkpoint = _checkpoint! with { State = state, PauseReason = progress.PauseReason };
        }
        store.Save(_checkpoint);
        LogStateChanged(logger, progress.ScanId, state.ToString(), reason);
        await events.StateChangedAsync(new ScanStateEvent(progress.ScanId, state, reason, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        await events.ProgressAsync(progress, cancellationToken).ConfigureAwait(false);
    }

    private async Task FinishAsync(ScanState state, Dictionary<int, PixelRecord> done)
    {
        await TrySetPumpAsync(on: true, $"scan {_checkpoint!.ScanId} {state.ToString().ToLowerInvariant()}").ConfigureAwait(false);
        ScanProgress progress;
        lock (_gate)
        {
            _progress = _progress! with { State = state, EtaS = 0, PauseReason = null, UpdatedUtc = time.GetUtcNow() };
            progress = _progress;
            _checkpoint = _checkpoint with { State = state, Done = [.. done.Values.OrderBy(p => p.Index)] };
        }
        store.Archive(_checkpoint);
        using var flush = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await events.ProgressAsync(progress, flush.Token).ConfigureAwait(false);
            await events.FinishedAsync(new ScanFinishedEvent(progress.ScanId, state, progress.PixelsDone, progress.PixelsTotal, time.GetUtcNow()),
                flush.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        LogFinished(logger, progress.ScanId, state.ToString(), progress.PixelsDone, progress.PixelsTotal);
    }

    private async Task EnsurePumpAsync(bool on, string reason, CancellationToken cancellationToken)
    {
        await instrument.SetPumpAsync(on, reason, cancellationToken).ConfigureAwait(false);
        _checkpoint = _checkpoint! with { PumpTurnedOffByScan = !on };
    }

    private async Task TrySetPumpAsync(bool on, string reason)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await instrument.SetPumpAsync(on, reason, timeout.Token).ConfigureAwait(false);
            _checkpoint = _checkpoint! with { PumpTurnedOffByScan = !on };
        }
        catch (Exception ex) when (ex is CommandException or TimeoutException or OperationCanceledException)
        {
            // The glovebox turns the pump back on by itself (scan offline, maximum off time).
            LogPumpFailed(logger, on ? "on" : "off", ex.Message);
        }
    }

    private async Task TryRetractAsync(Recipe recipe)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await instrument.RetractAsync(recipe.RetractUm, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is CommandException or TimeoutException or OperationCanceledException)
        {
            LogRetractFailed(logger, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scan {ScanId} suspended with {Done} pixels done; it resumes when the service starts again")]
    private static partial void LogSuspended(ILogger logger, string scanId, int done);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming scan {ScanId} from its checkpoint: {Done} pixels already done")]
    private static partial void LogResumingCheckpoint(ILogger logger, string scanId, int done);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pixel {Index} failed, pausing at a safe point: {Reason}")]
    private static partial void LogPixelFailed(ILogger logger, int index, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pixel {Index}: no contact ({Reason}); recorded and moving on")]
    private static partial void LogNoContact(ILogger logger, int index, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pixel {Index}: no contact on the first approach after a fault ({Reason}); approaching once more from the start height")]
    private static partial void LogApproachAgain(ILogger logger, int index, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pixel {Index}: the device flagged samples ({Flags}); {Action}")]
    private static partial void LogInvalidSamples(ILogger logger, int index, string flags, string action);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pixel {Index}: the broker connection dropped during the pixel; measuring it again (attempt {Attempt})")]
    private static partial void LogPixelDisturbed(ILogger logger, int index, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Scan {ScanId} failed")]
    private static partial void LogScanFailed(ILogger logger, Exception ex, string scanId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scan {ScanId} is {State}: {Reason}")]
    private static partial void LogStateChanged(ILogger logger, string scanId, string state, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scan {ScanId} {State}: {Done}/{Total} pixels")]
    private static partial void LogFinished(ILogger logger, string scanId, string state, int done, int total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not switch the pump {State}: {Reason}")]
    private static partial void LogPumpFailed(ILogger logger, string state, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not retract the pipette: {Reason}")]
    private static partial void LogRetractFailed(ILogger logger, string reason);
}
