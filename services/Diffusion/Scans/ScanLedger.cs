using Microsoft.Extensions.Logging;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Scan;
using Seccm.Curves;
using Seccm.Curves.Assembly;
using Seccm.Diffusion.Assembly;

namespace Seccm.Diffusion.Scans;

/// <summary>
/// What this worker knows of each scan: its started event, its spill (reopened and replayed into the assembler when the
/// scan is first seen, so a restarted worker has what it had), the pixel results of every worker, and the pixels waiting
/// here for chunks. Keeps the last <see cref="DiffusionOptions.MaxScansKept"/> scans. Everything is read and changed
/// under <see cref="Gate"/>.
/// </summary>
internal sealed partial class ScanLedger(DiffusionOptions options, string clientId, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly Dictionary<string, ScanRecord> _scans = new(StringComparer.Ordinal);
    private readonly List<string> _scanOrder = [];

    /// <summary>The lock of every scan's state and of <see cref="Assembler"/>.</summary>
    public object Gate { get; } = new();

    /// <summary>Rebuilds every pixel's curves from the chunks; use under <see cref="Gate"/>.</summary>
    public CurveAssembler Assembler { get; } = new();

    private const string SpillExtension = ".spill.curves";

    private string SpillDirectory => options.SpillDirectory ?? Path.Combine(Path.GetTempPath(), "seccm-diffusion");

    /// <summary>The state of a scan, created on first sight; beyond <see cref="DiffusionOptions.MaxScansKept"/> the oldest goes. Call under the lock.</summary>
    public ScanRecord Scan(string scanId)
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
            Assembler.ForgetScan(oldest);
        }
        // One file per worker and scan, so that this worker started again finds what it had. A curve log, named apart from
        // the spill files of versions before it (".chunks", another format), which age out below instead of being cut off.
        var spill = CurveSpill.Open(Path.Combine(SpillDirectory, $"{clientId}-{scanId}{SpillExtension}"), scanId);
        var replayed = 0;
        foreach (var chunk in spill.ReadAllChunks())
        {
            try
            {
                Assembler.Add(chunk, spill.Path);
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

    /// <summary>The scan if this worker knows it (does not create it). Call under the lock.</summary>
    public bool TryGet(string scanId, out ScanRecord scan) => _scans.TryGetValue(scanId, out scan!);

    /// <summary>Scans kept, oldest first (for error messages). Call under the lock.</summary>
    public IReadOnlyList<string> Known => _scanOrder;

    public int ResultCount(string scanId)
    {
        lock (Gate)
        {
            return _scans.TryGetValue(scanId, out var scan) ? scan.Results.Count : 0;
        }
    }

    /// <summary>Pixels waiting for their curves, over all scans.</summary>
    public int WaitingCount
    {
        get
        {
            lock (Gate)
            {
                return _scans.Values.Sum(s => s.Waiting.Count);
            }
        }
    }

    /// <summary>How many of <paramref name="pixels"/> have a result.</summary>
    public int ResultCountOf(string scanId, IEnumerable<int> pixels)
    {
        lock (Gate)
        {
            return _scans.TryGetValue(scanId, out var scan) ? pixels.Count(scan.Results.ContainsKey) : 0;
        }
    }

    /// <summary>Records the scan's started event (geometry, recipe, technique).</summary>
    public void Start(ScanStartedEvent started)
    {
        lock (Gate)
        {
            var scan = Scan(started.ScanId);
            scan.Started = started;
            scan.Technique ??= started.Recipe.Technique?.Kind == TechniqueKind.Hold ? Analysis.PixelAnalyzer.HoldTechnique : "cv";
        }
    }

    /// <summary>Spill files of this worker left by scans that ended long ago (a scan is only evicted from a running process).</summary>
    public void DeleteStaleSpills()
    {
        if (!Directory.Exists(SpillDirectory))
        {
            return;
        }
        var cutoff = time.GetUtcNow().UtcDateTime - TimeSpan.FromHours(options.SpillKeepHours);
        foreach (var file in new[] { SpillExtension, ".chunks" }.SelectMany(e => Directory.EnumerateFiles(SpillDirectory, $"{clientId}-*{e}")))
        {
            try
            {
                if (File.GetLastWriteTimeUtc(file) < cutoff)
                {
                    File.Delete(file);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogDropped(logger, $"{file}: cannot delete an old spill file: {ex.Message}");
            }
        }
    }

    /// <summary>Closes every scan (its spill stays on disk for this worker started again).</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            foreach (var scan in _scans.Values)
            {
                scan.Dispose();
            }
            _scans.Clear();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a message: {Reason}")]
    private static partial void LogDropped(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Scan {ScanId}: replayed {Chunks} chunks of {Pixels} pixels from {Path} (an earlier run of this worker; {TruncatedBytes} bytes of an unfinished record cut off)")]
    private static partial void LogSpillReplayed(ILogger logger, string scanId, int chunks, int pixels, string path, long truncatedBytes);
}

/// <summary>A pixel whose done event came to this worker and whose chunks are still missing.</summary>
internal sealed record WaitingPixel(PixelDoneEvent Pixel, ITimer Timer, TaskCompletionSource Done);

/// <summary>One scan as this worker sees it.</summary>
internal sealed class ScanRecord(string scanId, CurveSpill spill) : IDisposable
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

    /// <summary>Pixels another worker took on (their done event went there) and has no result for yet: pixel -> worker.</summary>
    public Dictionary<int, string> PendingElsewhere { get; } = [];

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
