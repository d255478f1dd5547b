using System.Runtime.InteropServices;

namespace Seccm.Diffusion.Assembly;

/// <summary>Where one spilled curve lies in the spill file.</summary>
internal sealed record SpilledCurve(int Pixel, int RateIndex, double ScanRateVPerS, int SamplesPerCycle, long Offset, int Count);

/// <summary>
/// The rebuilt curves of one scan on disk instead of in managed memory: a 64 x 64 x 5-rate scan is ~25 M samples
/// (~400 MB as double pairs), far too much to keep per worker. Curves are appended as raw little-endian doubles
/// (potentials then currents) and read back for analysis, the example-CV figure and the HDF5 export, which streams them
/// curve by curve. Only the small index stays in memory. Thread-safe; deleted on dispose.
/// </summary>
internal sealed class CurveSpill : IDisposable
{
    private readonly object _gate = new();
    private readonly FileStream _file;
    private readonly Dictionary<(int Pixel, int RateIndex), SpilledCurve> _index = [];

    public CurveSpill(string path)
    {
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        _file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.DeleteOnClose);
    }

    public string Path { get; }

    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _file.Length;
            }
        }
    }

    public void Append(int pixel, RebuiltCurve curve)
    {
        lock (_gate)
        {
            _file.Seek(0, SeekOrigin.End);
            var offset = _file.Position;
            _file.Write(MemoryMarshal.AsBytes(curve.PotentialV.AsSpan()));
            _file.Write(MemoryMarshal.AsBytes(curve.CurrentA.AsSpan()));
            // A pixel measured again (a resumed scan) replaces its earlier curves.
            _index[(pixel, curve.RateIndex)] = new SpilledCurve(pixel, curve.RateIndex, curve.ScanRateVPerS, curve.SamplesPerCycle, offset, curve.Count);
        }
    }

    /// <summary>Index of every curve, by pixel then rate.</summary>
    public IReadOnlyList<SpilledCurve> Entries
    {
        get
        {
            lock (_gate)
            {
                return _index.Values.OrderBy(e => e.Pixel).ThenBy(e => e.RateIndex).ToArray();
            }
        }
    }

    public bool HasPixel(int pixel)
    {
        lock (_gate)
        {
            return _index.Keys.Any(k => k.Pixel == pixel);
        }
    }

    public IReadOnlyList<RebuiltCurve> ReadPixel(int pixel, string technique)
    {
        SpilledCurve[] entries;
        lock (_gate)
        {
            entries = _index.Values.Where(e => e.Pixel == pixel).OrderBy(e => e.RateIndex).ToArray();
        }
        return entries.Select(e => Read(e, technique)).ToArray();
    }

    public RebuiltCurve Read(SpilledCurve entry, string technique)
    {
        var potential = new double[entry.Count];
        var current = new double[entry.Count];
        lock (_gate)
        {
            _file.Flush();
            _file.Seek(entry.Offset, SeekOrigin.Begin);
            _file.ReadExactly(MemoryMarshal.AsBytes(potential.AsSpan()));
            _file.ReadExactly(MemoryMarshal.AsBytes(current.AsSpan()));
        }
        return new RebuiltCurve(entry.RateIndex, entry.ScanRateVPerS, technique, entry.SamplesPerCycle, potential, current);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _file.Dispose();
        }
    }
}
