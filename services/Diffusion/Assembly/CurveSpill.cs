using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Seccm.Contracts.Potentiostat;

namespace Seccm.Diffusion.Assembly;

/// <summary>
/// The curve chunks of one scan on disk instead of in managed memory (a 64 x 64 x 5-rate scan is ~25 M samples, ~400 MB
/// as double pairs), and durable: a worker killed mid-scan reopens the file and replays it, so chunks it acknowledged to
/// the broker are not lost. Each accepted chunk is appended as one record (header, technique, potentials, currents, end
/// mark) and handed to the operating system before <see cref="AppendChunk"/> returns; a record cut short by a kill has no
/// end mark and is cut off on reopening. Only a small index stays in memory. Thread-safe.
/// </summary>
internal sealed class CurveSpill : IDisposable
{
    private const int Magic = 0x4B4E4843; // "CHNK"
    private const int EndMark = 0x444E4543; // "CEND"
    private const int HeaderBytes = 4 * 7 + 8 + 8 + 4 * 3;
    private const int MaxTechniqueBytes = 256;

    private readonly object _gate = new();
    private readonly FileStream _file;
    private readonly Dictionary<int, List<long>> _index = [];
    private readonly string _scanId;

    private CurveSpill(string path, string scanId, FileStream file)
    {
        Path = path;
        _scanId = scanId;
        _file = file;
    }

    public string Path { get; }

    /// <summary>Bytes cut off the end on opening (a record the last process did not finish).</summary>
    public long TruncatedBytes { get; private set; }

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

    /// <summary>Pixels with at least one chunk, ascending.</summary>
    public IReadOnlyList<int> Pixels
    {
        get
        {
            lock (_gate)
            {
                return _index.Keys.Order().ToArray();
            }
        }
    }

    /// <summary>Opens the spill of <paramref name="scanId"/> at <paramref name="path"/>, keeping the complete records an earlier process left.</summary>
    public static CurveSpill Open(string path, string scanId)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        var spill = new CurveSpill(path, scanId, file);
        try
        {
            spill.Recover();
        }
        catch
        {
            file.Dispose();
            throw;
        }
        return spill;
    }

    /// <summary>Chunks recovered from an earlier process, in file order (to replay into the assembler).</summary>
    public IEnumerable<CurveChunk> ReadAllChunks()
    {
        List<long> offsets;
        lock (_gate)
        {
            offsets = _index.Values.SelectMany(o => o).Order().ToList();
        }
        foreach (var offset in offsets)
        {
            yield return ReadChunk(offset);
        }
    }

    public void AppendChunk(CurveChunk chunk)
    {
        var technique = Encoding.UTF8.GetBytes(chunk.Technique);
        if (technique.Length > MaxTechniqueBytes)
        {
            throw new ChunkException($"field technique: '{chunk.Technique[..32]}...' is longer than {MaxTechniqueBytes} bytes");
        }
        var n = chunk.PotentialV.Length;
        Span<byte> header = stackalloc byte[HeaderBytes];
        BinaryPrimitives.WriteInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], chunk.Pixel);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], chunk.RateIndex);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], chunk.RateCount);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], chunk.ChunkIndex);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], chunk.ChunkCount ?? -1);
        // Bit 0: last chunk; bits 8-15: the device's sample flags; bits 16-23: the attempt (files written before have 0 there).
        BinaryPrimitives.WriteInt32LittleEndian(header[24..],
            (chunk.Last ? 1 : 0) | ((SampleFlagNames.ToBits(chunk.SampleFlags) & 0xFF) << 8) | (Math.Clamp(chunk.Attempt, 0, 255) << 16));
        BinaryPrimitives.WriteInt64LittleEndian(header[28..], chunk.FirstSampleIndex);
        BinaryPrimitives.WriteDoubleLittleEndian(header[36..], chunk.ScanRateVPerS);
        BinaryPrimitives.WriteInt32LittleEndian(header[44..], chunk.SamplesPerCycle);
        BinaryPrimitives.WriteInt32LittleEndian(header[48..], technique.Length);
        BinaryPrimitives.WriteInt32LittleEndian(header[52..], n);
        Span<byte> end = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(end, EndMark);
        lock (_gate)
        {
            var offset = _file.Seek(0, SeekOrigin.End);
            _file.Write(header);
            _file.Write(technique);
            _file.Write(MemoryMarshal.AsBytes(chunk.PotentialV.AsSpan()));
            _file.Write(MemoryMarshal.AsBytes(chunk.CurrentA.AsSpan()));
            _file.Write(end);
            // To the operating system: a killed process loses nothing written before (a power cut is another matter).
            _file.Flush();
            Index(chunk.Pixel, offset);
        }
    }

    public bool HasPixel(int pixel)
    {
        lock (_gate)
        {
            return _index.ContainsKey(pixel);
        }
    }

    /// <summary>The pixel's rebuilt curves: every rate whose chunks are all here (all of them, unless the pixel was given up on).</summary>
    public IReadOnlyList<RebuiltCurve> ReadPixel(int pixel)
    {
        long[] offsets;
        lock (_gate)
        {
            if (!_index.TryGetValue(pixel, out var list))
            {
                return [];
            }
            offsets = [.. list];
        }
        // Every record is read: a pixel measured again has a later attempt, which replaces the earlier complete one.
        var assembler = new CurveAssembler();
        IReadOnlyList<RebuiltCurve>? complete = null;
        foreach (var offset in offsets)
        {
            var result = assembler.Add(ReadChunk(offset), Path);
            if (result.Outcome == ChunkOutcome.PixelComplete)
            {
                complete = result.Curves!;
            }
        }
        return complete ?? assembler.TakeCompleteRates(_scanId, pixel);
    }

    /// <summary>Closes the file and deletes it (the scan is no longer kept).</summary>
    public void Delete()
    {
        Dispose();
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Closes the file and keeps it, for a worker started again.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _file.Dispose();
        }
    }

    private void Index(int pixel, long offset)
    {
        if (!_index.TryGetValue(pixel, out var list))
        {
            _index[pixel] = list = [];
        }
        list.Add(offset);
    }

    private CurveChunk ReadChunk(long offset)
    {
        lock (_gate)
        {
            _file.Seek(offset, SeekOrigin.Begin);
            Span<byte> header = stackalloc byte[HeaderBytes];
            _file.ReadExactly(header);
            var h = ParseHeader(header);
            var technique = new byte[h.TechniqueBytes];
            _file.ReadExactly(technique);
            var potential = new double[h.Count];
            var current = new double[h.Count];
            _file.ReadExactly(MemoryMarshal.AsBytes(potential.AsSpan()));
            _file.ReadExactly(MemoryMarshal.AsBytes(current.AsSpan()));
            return new CurveChunk(_scanId, h.Pixel, Encoding.UTF8.GetString(technique), h.RateIndex, h.RateCount, h.ScanRateVPerS, h.SamplesPerCycle,
                h.ChunkIndex, h.ChunkCount < 0 ? null : h.ChunkCount, h.Last, h.FirstSampleIndex, DateTimeOffset.UnixEpoch, [], potential, current,
                SampleFlagNames.FromBits(h.SampleFlagBits), h.Attempt);
        }
    }

    private readonly record struct Header(int Pixel, int RateIndex, int RateCount, int ChunkIndex, int ChunkCount, int LastAndFlags, long FirstSampleIndex,
        double ScanRateVPerS, int SamplesPerCycle, int TechniqueBytes, int Count)
    {
        public long RecordBytes => HeaderBytes + TechniqueBytes + (16L * Count) + 4;

        public bool Last => (LastAndFlags & 1) != 0;

        public int SampleFlagBits => (LastAndFlags >> 8) & 0xFF;

        public int Attempt => (LastAndFlags >> 16) & 0xFF;
    }

    private static Header? ParseHeaderChecked(ReadOnlySpan<byte> header)
    {
        if (BinaryPrimitives.ReadInt32LittleEndian(header) != Magic)
        {
            return null;
        }
        var h = ParseHeader(header);
        return h.Pixel < 0 || h.TechniqueBytes is < 0 or > MaxTechniqueBytes || h.Count < 0 ? null : h;
    }

    private static Header ParseHeader(ReadOnlySpan<byte> header) => new(
        BinaryPrimitives.ReadInt32LittleEndian(header[4..]),
        BinaryPrimitives.ReadInt32LittleEndian(header[8..]),
        BinaryPrimitives.ReadInt32LittleEndian(header[12..]),
        BinaryPrimitives.ReadInt32LittleEndian(header[16..]),
        BinaryPrimitives.ReadInt32LittleEndian(header[20..]),
        BinaryPrimitives.ReadInt32LittleEndian(header[24..]),
        BinaryPrimitives.ReadInt64LittleEndian(header[28..]),
        BinaryPrimitives.ReadDoubleLittleEndian(header[36..]),
        BinaryPrimitives.ReadInt32LittleEndian(header[44..]),
        BinaryPrimitives.ReadInt32LittleEndian(header[48..]),
        BinaryPrimitives.ReadInt32LittleEndian(header[52..]));

    /// <summary>Indexes the complete records and cuts off whatever follows the last one.</summary>
    private void Recover()
    {
        var length = _file.Length;
        var offset = 0L;
        Span<byte> header = stackalloc byte[HeaderBytes];
        Span<byte> end = stackalloc byte[4];
        while (offset + HeaderBytes <= length)
        {
            _file.Seek(offset, SeekOrigin.Begin);
            _file.ReadExactly(header);
            if (ParseHeaderChecked(header) is not { } h || offset + h.RecordBytes > length)
            {
                break;
            }
            _file.Seek(offset + h.RecordBytes - 4, SeekOrigin.Begin);
            _file.ReadExactly(end);
            if (BinaryPrimitives.ReadInt32LittleEndian(end) != EndMark)
            {
                break;
            }
            Index(h.Pixel, offset);
            offset += h.RecordBytes;
        }
        if (offset < length)
        {
            TruncatedBytes = length - offset;
            _file.SetLength(offset);
        }
    }
}
