using System.Globalization;

namespace Seccm.Maps.LongCsv;

/// <summary>
/// Writes the long-CSV format (see <see cref="LongCsvFormat"/>): header on construction, then one row per sample,
/// numbers in invariant culture and shortest round-trip form, so reading back gives the same doubles. To write a file
/// that never appears half-written, wrap it: <c>using var f = AtomicFile.Begin(path); using (var w = new
/// LongCsvWriter(f.Stream, leaveOpen: true)) { ... } f.Commit();</c> or use <see cref="WriteFile"/>.
/// </summary>
public sealed class LongCsvWriter : IDisposable
{
    private const int MaxRowBytes = 3 * 12 + 3 * 32 + 8;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _buffer = new byte[1 << 16];
    private readonly byte[] _prefix = new byte[64];
    private int _used;
    private bool _disposed;

    public LongCsvWriter(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _used = System.Text.Encoding.ASCII.GetBytes(LongCsvFormat.Header + "\n", _buffer);
    }

    /// <summary>Writes the curves to <paramref name="path"/> atomically.</summary>
    public static void WriteFile(string path, IEnumerable<CvCurve> curves)
    {
        ArgumentNullException.ThrowIfNull(curves);
        using var file = Tables.AtomicFile.Begin(path);
        using (var writer = new LongCsvWriter(file.Stream, leaveOpen: true))
        {
            foreach (var curve in curves)
            {
                writer.Write(curve);
            }
        }
        file.Commit();
    }

    public void Write(CvCurve curve)
    {
        ArgumentNullException.ThrowIfNull(curve);
        Write(curve.PixelX, curve.PixelY, curve.ScanRateVPerS, curve.PotentialV, curve.CurrentA);
    }

    /// <summary>Writes one curve. Non-finite values or unequal lengths throw before anything of this curve is written.</summary>
    public void Write(int pixelX, int pixelY, double scanRateVPerS, ReadOnlySpan<double> potentialV, ReadOnlySpan<double> currentA)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (pixelX < 0 || pixelY < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(pixelX), $"Pixel ({pixelX}, {pixelY}): indices must be >= 0.");
        }
        if (!(scanRateVPerS > 0) || !double.IsFinite(scanRateVPerS))
        {
            throw new ArgumentOutOfRangeException(nameof(scanRateVPerS), $"Pixel ({pixelX}, {pixelY}): scan rate {scanRateVPerS} V/s must be positive and finite.");
        }
        if (potentialV.Length != currentA.Length)
        {
            throw new ArgumentException($"Pixel ({pixelX}, {pixelY}) at {scanRateVPerS} V/s: {potentialV.Length} potentials but {currentA.Length} currents.", nameof(currentA));
        }
        for (var i = 0; i < potentialV.Length; i++)
        {
            if (!double.IsFinite(potentialV[i]) || !double.IsFinite(currentA[i]))
            {
                throw new ArgumentException($"Pixel ({pixelX}, {pixelY}) at {scanRateVPerS} V/s, sample {i}: potential {potentialV[i]} V, current {currentA[i]} A; the file format has no place for non-finite values.", nameof(potentialV));
            }
        }

        var prefixLength = 0;
        Append(_prefix, ref prefixLength, pixelX);
        _prefix[prefixLength++] = (byte)',';
        Append(_prefix, ref prefixLength, pixelY);
        _prefix[prefixLength++] = (byte)',';
        Append(_prefix, ref prefixLength, scanRateVPerS);
        _prefix[prefixLength++] = (byte)',';
        var prefix = _prefix.AsSpan(0, prefixLength);

        for (var i = 0; i < potentialV.Length; i++)
        {
            if (_buffer.Length - _used < MaxRowBytes)
            {
                FlushBuffer();
            }
            prefix.CopyTo(_buffer.AsSpan(_used));
            _used += prefix.Length;
            Append(_buffer, ref _used, potentialV[i]);
            _buffer[_used++] = (byte)',';
            Append(_buffer, ref _used, currentA[i]);
            _buffer[_used++] = (byte)'\n';
        }
    }

    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        FlushBuffer();
        _stream.Flush();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        FlushBuffer();
        _stream.Flush();
        _disposed = true;
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    private void FlushBuffer()
    {
        _stream.Write(_buffer, 0, _used);
        _used = 0;
    }

    private static void Append(byte[] target, ref int used, int value)
    {
        value.TryFormat(target.AsSpan(used), out var written, default, CultureInfo.InvariantCulture);
        used += written;
    }

    private static void Append(byte[] target, ref int used, double value)
    {
        // "R" is the shortest text that parses back to the same double.
        value.TryFormat(target.AsSpan(used), out var written, "R", CultureInfo.InvariantCulture);
        used += written;
    }
}
