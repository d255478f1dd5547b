using Microsoft.Extensions.Logging;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Diffusion.Pixels;
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
internal sealed partial class Reconciler(MqttBus bus, DiffusionOptions options, TimeProvider time, ScanLedger ledger, PixelJoin join, ILogger logger)
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
            if (Payloads.IsUsable(p))
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
        lock (ledger.Gate)
        {
            var scan = ledger.Scan(scanId);
            missing = [.. usable.Where(p => !scan.Results.ContainsKey(p.Index))];
            needCurves = [.. missing.Where(p => p.Contact && !ledger.Assembler.IsComplete(scanId, p.Index)).Select(p => p.Index)];
        }
        if (missing.Count == 0)
        {
            return [];
        }
        LogReconciling(logger, scanId, missing.Count, usable.Count, string.Join(", ", missing.Select(p => p.Index)), needCurves.Count);
        var unavailable = await ReplayAsync(scanId, needCurves, requestTimeout, cancellationToken).ConfigureAwait(false);
        var handling = new List<Task>(missing.Count);
        foreach (var p in missing)
        {
            // A pixel whose done event came here waits already; the others are taken on as if their event came now.
            handling.Add(join.WaitingFor(scanId, p.Index) ?? join.AcceptPixelAsync(new PixelDoneEvent(scanId, p.Index, p.Ix, p.Iy, p.XUm, p.YUm,
                p.Contact, p.ContactZUm, finished.TimestampUtc), cancellationToken));
        }
        foreach (var (index, reason) in unavailable)
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
        lock (ledger.Gate)
        {
            var scan = ledger.Scan(scanId);
            return [.. usable.Select(p => p.Index).Where(i => !scan.Results.ContainsKey(i))];
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Scan {ScanId}: reconciliation with the scan's record failed: {Reason}")]
    private static partial void LogReconcileFailed(ILogger logger, string scanId, string reason);
}
