using Microsoft.Extensions.Logging;
using Seccm.Contracts.Potentiostat;

namespace Seccm.Potentiostat.Recording;

/// <summary>
/// The retention policy of the raw-curve files (about 24 bytes a sample, ~600 MB for a 64 x 64 x 5-rate scan): files
/// older than <see cref="PotentiostatOptions.RawCurveKeepDays"/> go, then the oldest until all of them fit in
/// <see cref="PotentiostatOptions.RawCurveMaxGb"/>; the scan being written always stays. Says what it reclaimed, and
/// when the disk's free space is below <see cref="PotentiostatOptions.RawCurveLowFreeGb"/>.
/// </summary>
internal sealed partial class CurveRetention(string directory, PotentiostatOptions options, TimeProvider time, ILogger logger)
{
    private const double Gb = 1e9;

    /// <summary>Applies the policy now, keeping <paramref name="activeScanId"/>'s file; returns what is kept.</summary>
    public RawCurveStorage Sweep(string? activeScanId)
    {
        var now = time.GetUtcNow();
        var files = new List<FileInfo>();
        if (Directory.Exists(directory))
        {
            files.AddRange(new DirectoryInfo(directory).EnumerateFiles("*" + CurveRecorder.Extension).OrderBy(f => f.LastWriteTimeUtc));
        }
        var active = activeScanId is null ? null : Path.GetFullPath(Path.Combine(directory, activeScanId + CurveRecorder.Extension));
        var cutoff = now.UtcDateTime - TimeSpan.FromDays(options.RawCurveKeepDays);
        var maxBytes = (long)(options.RawCurveMaxGb * Gb);
        var total = files.Sum(f => f.Length);
        var reclaimed = 0L;
        var deleted = 0;
        foreach (var file in files.ToList())
        {
            if (file.FullName == active || (file.LastWriteTimeUtc >= cutoff && total <= maxBytes))
            {
                continue;
            }
            var why = file.LastWriteTimeUtc < cutoff ? $"older than {options.RawCurveKeepDays} days" : $"the raw curves exceed {options.RawCurveMaxGb} GB";
            try
            {
                var length = file.Length;
                file.Delete();
                files.Remove(file);
                total -= length;
                reclaimed += length;
                deleted++;
                LogDeleted(logger, file.FullName, length, why);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogDeleteFailed(logger, file.FullName, ex.Message);
            }
        }
        if (deleted > 0)
        {
            LogReclaimed(logger, reclaimed / Gb, deleted, directory, total / Gb, files.Count);
        }
        long? free = null;
        try
        {
            free = new DriveInfo(Path.GetFullPath(Directory.Exists(directory) ? directory : ".")).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Unknown free space is reported as such (null), not as low.
        }
        var low = free is { } f && f < options.RawCurveLowFreeGb * Gb;
        if (low)
        {
            LogSpaceLow(logger, directory, free!.Value / Gb, options.RawCurveLowFreeGb, total / Gb, files.Count);
        }
        return new RawCurveStorage(directory, files.Count, total, free, low, deleted, reclaimed, now);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Raw curves: deleted {Path} ({Bytes} bytes): {Reason}")]
    private static partial void LogDeleted(ILogger logger, string path, long bytes, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Raw curves: cannot delete {Path}: {Reason}")]
    private static partial void LogDeleteFailed(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Raw curves: reclaimed {ReclaimedGb:0.###} GB in {Files} file(s) in {Directory}; {KeptGb:0.###} GB in {Kept} file(s) kept")]
    private static partial void LogReclaimed(ILogger logger, double reclaimedGb, int files, string directory, double keptGb, int kept);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Raw curves: only {FreeGb:0.##} GB free on the disk of {Directory} (warning below {LowGb} GB); {KeptGb:0.###} GB in {Kept} raw-curve file(s). Lower Potentiostat:RawCurveKeepDays or RawCurveMaxGb, or free space")]
    private static partial void LogSpaceLow(ILogger logger, string directory, double freeGb, double lowGb, double keptGb, int kept);
}
