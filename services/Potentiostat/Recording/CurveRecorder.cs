using Seccm.Contracts.Potentiostat;
using Seccm.Curves.Log;

namespace Seccm.Potentiostat.Recording;

/// <summary>
/// The instrument's raw data: every <see cref="CurveChunk"/> of a scan, appended to <c>{directory}/{scanId}.curves</c> (a
/// <see cref="CurveLog"/>) before it is published, so that chunks a broker lost (accepted, then killed before delivering
/// them) can be published again byte for byte (<c>cmd/replay</c>). One file per scan; the current scan's file stays
/// open. Thread-safe.
/// </summary>
internal sealed class CurveRecorder(string directory) : IDisposable
{
    public const string Extension = ".curves";

    private readonly object _gate = new();
    private CurveLog? _current;

    public string Directory { get; } = directory;

    public string PathOf(string scanId) => Path.Combine(Directory, scanId + Extension);

    /// <summary>Appends the chunk to its scan's file (handed to the operating system before this returns).</summary>
    public void Append(CurveChunk chunk)
    {
        lock (_gate)
        {
            Writer(chunk.ScanId).Append(chunk);
        }
    }

    /// <summary>
    /// The take a new measurement of the pixel is: 0 for a pixel with no record in this scan, else one more than its
    /// latest recorded take (a pixel measured again after a disturbed attempt).
    /// </summary>
    public int NextTake(string scanId, int pixel)
    {
        lock (_gate)
        {
            return Writer(scanId).LatestTake(pixel) is { } latest ? latest + 1 : 0;
        }
    }

    /// <summary>
    /// Opens the scan's file for reading (a file of its own, also for the scan being written: records appended later are
    /// not seen); null when this potentiostat has no raw data of the scan.
    /// </summary>
    public CurveLog? OpenReader(string scanId)
    {
        var path = PathOf(scanId);
        return File.Exists(path) ? CurveLog.Open(path, scanId, writable: false) : null;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _current?.Dispose();
            _current = null;
        }
    }

    private CurveLog Writer(string scanId)
    {
        if (_current?.ScanId != scanId)
        {
            _current?.Dispose();
            _current = null;
            _current = CurveLog.Open(PathOf(scanId), scanId, writable: true);
        }
        return _current;
    }
}
