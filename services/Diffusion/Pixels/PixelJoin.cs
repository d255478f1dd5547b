using Microsoft.Extensions.Logging;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Curves;
using Seccm.Curves.Assembly;
using Seccm.Diffusion.Results;
using Seccm.Diffusion.Scans;
using Seccm.Messaging.Bus;

namespace Seccm.Diffusion.Pixels;

/// <summary>
/// Joins a pixel's curve chunks (every worker reads every chunk, spills it and rebuilds every pixel) with its done event
/// (the worker that receives it analyses the pixel): at once when its curves are complete, else when its last chunk
/// arrives, else after <see cref="DiffusionOptions.CurveWaitS"/> with the rates that are complete.
/// </summary>
internal sealed partial class PixelJoin(DiffusionOptions options, TimeProvider time, ScanLedger ledger, ResultPublisher publisher, ILogger logger)
{
    private long _pixelsRebuilt;

    /// <summary>Pixels whose curves this worker rebuilt completely (every worker rebuilds every pixel).</summary>
    public long PixelsRebuilt => Interlocked.Read(ref _pixelsRebuilt);

    /// <summary>Pixels whose done event came here and whose curves are still incomplete.</summary>
    public int PixelsWaiting => ledger.WaitingCount;

    /// <summary>The worker's stopping token, for analyses started by a timer.</summary>
    public CancellationToken Stopping { get; set; }

    public async Task OnChunkAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (!message.TryRead<CurveChunk>(logger, "dropped", out var chunk))
        {
            return;
        }
        (ScanRecord Scan, WaitingPixel Waiting, IReadOnlyList<Curve> Curves)? ready = null;
        lock (ledger.Gate)
        {
            // First: opening a scan replays its spill, so the assembler knows what an earlier process already had.
            var scan = ledger.Scan(chunk.ScanId);
            ChunkResult result;
            try
            {
                result = ledger.Assembler.Add(chunk, message.Topic);
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
            // A pixel waits for the take its done event names: an earlier take completing late does not count.
            if (scan.Waiting.TryGetValue(chunk.Pixel, out var waiting) && chunk.Take >= waiting.Pixel.Take)
            {
                scan.Waiting.Remove(chunk.Pixel);
                waiting.Timer.Dispose();
                ready = (scan, waiting, result.Curves!);
            }
        }
        if (ready is { } r)
        {
            try
            {
                await publisher.AnalyseAndPublishAsync(r.Scan, r.Waiting.Pixel, r.Curves, cancellationToken).ConfigureAwait(false);
                r.Waiting.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                r.Waiting.Done.TrySetException(ex);
                throw;
            }
        }
    }

    public async Task OnPixelDoneAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (!message.TryRead<PixelDoneEvent>(logger, "dropped", out var pixel))
        {
            return;
        }
        await AcceptPixelAsync(pixel, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Takes on a finished pixel (its done event, or the scan's record of it at reconciliation): analyses it now when its
    /// curves are complete (or it had no contact), else waits for its last chunks (at most <see cref="DiffusionOptions.CurveWaitS"/>).
    /// Returns at once for a pixel that has a result or is being handled already, here or (unless <paramref name="takeOver"/>)
    /// by another worker.
    /// </summary>
    public async Task AcceptPixelAsync(PixelDoneEvent pixel, CancellationToken cancellationToken, bool takeOver = false)
    {
        IReadOnlyList<Curve> curves;
        ScanRecord scan;
        WaitingPixel? waiting = null;
        lock (ledger.Gate)
        {
            scan = ledger.Scan(pixel.ScanId);
            if (scan.Results.ContainsKey(pixel.Index) || scan.Waiting.ContainsKey(pixel.Index) || (!takeOver && scan.PendingElsewhere.ContainsKey(pixel.Index))
                || !scan.Claimed.Add(pixel.Index))
            {
                // Redelivered (QoS 1), already analysed, or taken on by another worker: each pixel is analysed once.
                return;
            }
            if (!pixel.Contact)
            {
                curves = [];
            }
            else if (ledger.Assembler.IsComplete(pixel.ScanId, pixel.Index, pixel.Take))
            {
                curves = scan.Spill.ReadPixel(pixel.Index);
            }
            else
            {
                var key = (pixel.ScanId, pixel.Index);
                var timer = time.CreateTimer(_ => _ = Task.Run(() => GiveUpWaitingAsync(key.ScanId, key.Index)), null,
                    TimeSpan.FromSeconds(options.CurveWaitS), Timeout.InfiniteTimeSpan);
                waiting = new WaitingPixel(pixel, timer, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                scan.Waiting[pixel.Index] = waiting;
                curves = [];
            }
        }
        if (waiting is not null)
        {
            await publisher.PublishPendingAsync(pixel, cancellationToken).ConfigureAwait(false);
            // The event is acknowledged (and so not delivered again after a kill) only once the pixel is analysed.
            await waiting.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        await publisher.AnalyseAndPublishAsync(scan, pixel, curves, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The task of a pixel waiting here for its chunks; null when none waits.</summary>
    public Task? WaitingFor(string scanId, int index)
    {
        lock (ledger.Gate)
        {
            return ledger.TryGet(scanId, out var scan) && scan.Waiting.TryGetValue(index, out var w) ? w.Done.Task : null;
        }
    }

    /// <summary>Stops waiting for a pixel's missing chunks and analyses the rates that are complete (none: "no data").</summary>
    public async Task GiveUpWaitingAsync(string scanId, int index)
    {
        ScanRecord? scan;
        WaitingPixel? waiting;
        IReadOnlyList<Curve> curves;
        lock (ledger.Gate)
        {
            if (!ledger.TryGet(scanId, out scan) || !scan.Waiting.Remove(index, out waiting))
            {
                return;
            }
            waiting.Timer.Dispose();
            // What the spill holds of it: its last complete take, else the complete rates of its latest take.
            ledger.Assembler.GiveUp(scanId, index);
            curves = scan.Spill.ReadPixel(index);
        }
        LogCurvesMissing(logger, scanId, index, options.CurveWaitS, curves.Count);
        try
        {
            await publisher.AnalyseAndPublishAsync(scan, waiting.Pixel, curves, Stopping).ConfigureAwait(false);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a message: {Reason}")]
    private static partial void LogDropped(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scan {ScanId} pixel {Index}: chunks still missing after {WaitS} s; analysing the {Rates} complete rate(s)")]
    private static partial void LogCurvesMissing(ILogger logger, string scanId, int index, double waitS, int rates);
}
