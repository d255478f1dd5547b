using Microsoft.Extensions.Logging;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Diffusion.Pixels;
using Seccm.Diffusion.Results;
using Seccm.Diffusion.Scans;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;

namespace Seccm.Diffusion.Reconciliation;

/// <summary>
/// At scan end, finds the pixels a broker lost: asks the scan which pixels it recorded (<c>scan/cmd/pixels</c>), the
/// potentiostat to publish again the curves this worker lacks for those without a result (<c>potentiostat/cmd/replay</c>),
/// and takes each such pixel on as if its done event had come now; a pixel whose curves cannot be had is analysed with
/// what is here, and said so.
/// </summary>
internal sealed partial class Reconciler(IMessageBus bus, DiffusionOptions options, TimeProvider time, ScanLedger ledger, PixelJoin join,
    ResultPublisher publisher, ILogger logger)
{
    /// <summary>
    /// Reconciles the scan with its record. The points of a pixel analysed here carry the finished event's time (it comes
    /// again unchanged if this worker is killed meanwhile). Returns the recorded pixels that still have no result, or null
    /// when the scan's record could not be had.
    /// </summary>
    public async Task<IReadOnlyList<int>?> ReconcileAsync(ScanFinishedEvent finished, CancellationToken cancellationToken)
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
            var problems = p.Validate().ToList();
            if (problems.Count == 0)
            {
                usable.Add(p);
            }
            else
            {
                LogDropped(logger, $"{where}: pixels: {p}: {string.Join("; ", problems)}");
            }
        }
        List<RecordedPixel> missing;
        List<RecordedPixel> elsewhere;
        List<int> needCurves;
        lock (ledger.Gate)
        {
            var scan = ledger.Scan(scanId);
            missing = [.. usable.Where(p => !scan.Results.ContainsKey(p.Index))];
            // Taken on by another worker (its done event went there): that worker analyses it once the replayed chunks come.
            elsewhere = [.. missing.Where(p => scan.PendingElsewhere.ContainsKey(p.Index) && !scan.Waiting.ContainsKey(p.Index))];
            needCurves = [.. missing.Where(p => p.Contact && !ledger.Assembler.IsComplete(scanId, p.Index)).Select(p => p.Index)];
        }
        if (missing.Count == 0)
        {
            return [];
        }
        LogReconciling(logger, scanId, missing.Count, usable.Count, string.Join(", ", missing.Select(p => p.Index)), needCurves.Count);
        var takeOn = missing.Except(elsewhere).ToList();
        foreach (var p in takeOn.Where(p => join.WaitingFor(scanId, p.Index) is null))
        {
            await publisher.ClaimAsync(DoneEventOf(finished, p), cancellationToken).ConfigureAwait(false);
        }
        var unavailable = await ReplayAsync(scanId, needCurves, requestTimeout, cancellationToken).ConfigureAwait(false);
        await TakeOnAsync(finished, takeOn, unavailable, cancellationToken).ConfigureAwait(false);
        if (elsewhere.Count > 0)
        {
            // Whatever the other worker has not analysed by now, it will not (it died or is stuck): analysed here.
            List<RecordedPixel> silent;
            lock (ledger.Gate)
            {
                var scan = ledger.Scan(scanId);
                silent = [.. elsewhere.Where(p => !scan.Results.ContainsKey(p.Index))];
            }
            if (silent.Count > 0)
            {
                await WaitForOthersAsync(finished, silent, unavailable, cancellationToken).ConfigureAwait(false);
            }
        }
        lock (ledger.Gate)
        {
            var scan = ledger.Scan(scanId);
            return [.. usable.Select(p => p.Index).Where(i => !scan.Results.ContainsKey(i))];
        }
    }

    /// <summary>Waits up to <see cref="DiffusionOptions.ReplayWaitS"/> for the results other workers owe, then takes on those still missing.</summary>
    private async Task WaitForOthersAsync(ScanFinishedEvent finished, List<RecordedPixel> pixels, Dictionary<int, string> unavailable,
        CancellationToken cancellationToken)
    {
        var scanId = finished.ScanId;
        var since = time.GetTimestamp();
        while (ledger.ResultCountOf(scanId, pixels.Select(p => p.Index)) < pixels.Count && time.GetElapsedTime(since).TotalSeconds < options.ReplayWaitS)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken).ConfigureAwait(false);
        }
        List<RecordedPixel> still;
        lock (ledger.Gate)
        {
            var scan = ledger.Scan(scanId);
            still = [.. pixels.Where(p => !scan.Results.ContainsKey(p.Index))];
        }
        foreach (var p in still)
        {
            LogOwnerSilent(logger, scanId, p.Index, PendingWorker(scanId, p.Index), options.ReplayWaitS);
        }
        await TakeOnAsync(finished, still, unavailable, cancellationToken).ConfigureAwait(false);
    }

    private string PendingWorker(string scanId, int index)
    {
        lock (ledger.Gate)
        {
            return ledger.TryGet(scanId, out var scan) && scan.PendingElsewhere.TryGetValue(index, out var worker) ? worker : "?";
        }
    }

    private static PixelDoneEvent DoneEventOf(ScanFinishedEvent finished, RecordedPixel p) =>
        new(finished.ScanId, p.Index, p.Ix, p.Iy, p.XUm, p.YUm, p.Contact, p.ContactZUm, finished.TimestampUtc);

    /// <summary>Takes on the pixels as if their done events came now and waits until each is analysed (at most <see cref="DiffusionOptions.ReplayWaitS"/>).</summary>
    private async Task TakeOnAsync(ScanFinishedEvent finished, List<RecordedPixel> missing, Dictionary<int, string> unavailable,
        CancellationToken cancellationToken)
    {
        var scanId = finished.ScanId;
        var handling = new List<Task>(missing.Count);
        foreach (var p in missing)
        {
            // A pixel whose done event came here waits already; the others are taken on as if their event came now.
            handling.Add(join.WaitingFor(scanId, p.Index) ?? join.AcceptPixelAsync(DoneEventOf(finished, p), cancellationToken, takeOver: true));
        }
        foreach (var (index, reason) in unavailable.Where(u => missing.Any(p => p.Index == u.Key)))
        {
            LogPixelUnrecoverable(logger, scanId, index, reason);
            await join.GiveUpWaitingAsync(scanId, index).ConfigureAwait(false);
        }
        var all = Task.WhenAll(handling);
        try
        {
            await all.WaitAsync(TimeSpan.FromSeconds(options.ReplayWaitS), time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            int[] stuck;
            lock (ledger.Gate)
            {
                stuck = ledger.TryGet(scanId, out var scan) ? [.. missing.Select(p => p.Index).Where(scan.Waiting.ContainsKey)] : [];
            }
            foreach (var index in stuck)
            {
                LogPixelUnrecoverable(logger, scanId, index, $"its replayed curves were not complete after {options.ReplayWaitS} s");
                await join.GiveUpWaitingAsync(scanId, index).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // One pixel's failure (logged where it happened) must not keep the others out of the export.
            LogReconcileFailed(logger, scanId, ex.Message);
        }
    }

    /// <summary>Asks the potentiostat to publish the pixels' curves again; returns the pixels it cannot, and why.</summary>
    private async Task<Dictionary<int, string>> ReplayAsync(string scanId, List<int> pixels, TimeSpan requestTimeout, CancellationToken cancellationToken)
    {
        var unavailable = new Dictionary<int, string>();
        foreach (var batch in pixels.Chunk(ReplayCommand.MaxPixels))
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
        return unavailable;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a message: {Reason}")]
    private static partial void LogDropped(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Scan {ScanId}: {Missing} of the {Recorded} recorded pixels have no result (lost in the broker?): {Pixels}; asking the potentiostat to replay the curves of {Replay}")]
    private static partial void LogReconciling(ILogger logger, string scanId, int missing, int recorded, string pixels, int replay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scan {ScanId}: the potentiostat replayed {Pixels} pixel(s) in {Chunks} chunk(s); {Missing} pixel(s) it has no record of")]
    private static partial void LogReplayAnswered(ILogger logger, string scanId, int pixels, int chunks, int missing);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scan {ScanId} pixel {Index}: its curves cannot be recovered ({Reason}); analysed with what arrived")]
    private static partial void LogPixelUnrecoverable(ILogger logger, string scanId, int index, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scan {ScanId} pixel {Index}: worker {Worker} took it on and has no result after {WaitS} s; analysed here")]
    private static partial void LogOwnerSilent(ILogger logger, string scanId, int index, string worker, double waitS);

    [LoggerMessage(Level = LogLevel.Error, Message = "Scan {ScanId}: reconciliation with the scan's record failed: {Reason}")]
    private static partial void LogReconcileFailed(ILogger logger, string scanId, string reason);
}
