using Seccm.Contracts.Potentiostat;
using Seccm.Curves;
using Seccm.Curves.Assembly;
using Seccm.Curves.Log;

namespace Seccm.Diffusion.Assembly;

/// <summary>
/// The curve chunks of one scan on disk instead of in managed memory (a 64 x 64 x 5-rate scan is ~25 M samples, ~400 MB
/// as double pairs), and durable: a worker killed mid-scan reopens the file and replays it, so chunks it acknowledged to
/// the broker are not lost. A <see cref="CurveLog"/> (the potentiostat's raw-data format) of every accepted chunk, in
/// arrival order; a pixel's curves are assembled from it when needed. Thread-safe.
/// </summary>
internal sealed class CurveSpill : IDisposable
{
    private readonly CurveLog _log;

    private CurveSpill(CurveLog log) => _log = log;

    public string Path => _log.Path;

    /// <summary>Bytes cut off the end on opening (a record the last process did not finish).</summary>
    public long TruncatedBytes => _log.TruncatedBytes;

    public long Bytes => _log.Bytes;

    /// <summary>Pixels with at least one chunk, ascending.</summary>
    public IReadOnlyList<int> Pixels => _log.Pixels;

    /// <summary>Opens the spill of <paramref name="scanId"/> at <paramref name="path"/>, keeping the complete records an earlier process left.</summary>
    public static CurveSpill Open(string path, string scanId) => new(CurveLog.Open(path, scanId, writable: true));

    /// <summary>Chunks recovered from an earlier process, in file order (to replay into the assembler).</summary>
    public IEnumerable<CurveChunk> ReadAllChunks() => _log.ReadAll();

    /// <summary>Appends the chunk without its sample times (the analysis does not use them; a third less to write per chunk).</summary>
    public void AppendChunk(CurveChunk chunk) => _log.Append(chunk with { TimeS = [] });

    public bool HasPixel(int pixel) => _log.HasPixel(pixel);

    /// <summary>The pixel's curves: its last complete take, else the complete rates of its latest take (a pixel given up on).</summary>
    public IReadOnlyList<Curve> ReadPixel(int pixel) => CurveAssembler.Assemble(_log.ReadAllOf(pixel), Path);

    /// <summary>Closes the file and deletes it (the scan is no longer kept).</summary>
    public void Delete() => _log.Delete();

    /// <summary>Closes the file and keeps it, for a worker started again.</summary>
    public void Dispose() => _log.Dispose();
}
