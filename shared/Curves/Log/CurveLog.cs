using System.Runtime.InteropServices;
using System.Text;
using Seccm.Contracts.Potentiostat;

namespace Seccm.Curves.Log;

/// <summary>
/// One scan's curve chunks on disk, append-only and crash-safe: the potentiostat's raw data (the source of replays) and
/// the diffusion's spill are this file. Each chunk is one record [magic, length, body, end mark], handed to the operating
/// system before <see cref="Append"/> returns; the body keeps every field of the chunk (doubles bit for bit, so it
/// serialises to the same JSON again). A record cut short by a kill has no end mark: a writer cuts it off on opening, a
/// reader stops before it. Only an index (offset, take, rate, chunk per record) stays in memory. Thread-safe.
/// </summary>
public sealed class CurveLog : IDisposable
{
    // The record format is named by its magic; older ones are still read. "RAWC": no take (0), no sample flags.
    // "CRV2": the take; later versions of it end with an attempt (#19, dropped: the take orders the measurements) and
    // the sample flags. "CRV3" (written): the take and the sample flags, as a chunk on the bus carries them.
    private const int MagicV1 = 0x43574152; // "RAWC"
    private const int MagicV2 = 0x32565243; // "CRV2"
    private const int Magic = 0x33565243; // "CRV3"
    private const int EndMark = 0x444E4552; // "REND"
    private const int MaxBodyBytes = 64 << 20;

    private readonly object _gate = new();
    private readonly FileStream _file;
    private readonly Dictionary<int, List<Entry>> _index = [];

    private CurveLog(string path, string scanId, FileStream file)
    {
        Path = path;
        ScanId = scanId;
        _file = file;
    }

    private readonly record struct Entry(long Offset, int Take, int RateIndex, int ChunkIndex);

    public string Path { get; }

    public string ScanId { get; }

    /// <summary>Bytes of an unfinished record at the end (cut off when opened for writing).</summary>
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

    /// <summary>
    /// Opens the log of <paramref name="scanId"/> at <paramref name="path"/>: for writing (created if need be, an
    /// unfinished last record cut off) or for reading (a file of its own, also for a log being written: records
    /// appended later are not seen).
    /// </summary>
    public static CurveLog Open(string path, string scanId, bool writable)
    {
        FileStream stream;
        if (writable)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        }
        else
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        }
        var log = new CurveLog(path, scanId, stream);
        try
        {
            log.Recover(writable);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return log;
    }

    public void Append(CurveChunk chunk)
    {
        using var encoded = Encode(chunk);
        var body = encoded.GetBuffer().AsSpan(0, (int)encoded.Length);
        lock (_gate)
        {
            var offset = _file.Seek(0, SeekOrigin.End);
            Span<byte> frame = stackalloc byte[8];
            BitConverter.TryWriteBytes(frame, Magic);
            BitConverter.TryWriteBytes(frame[4..], body.Length);
            _file.Write(frame);
            _file.Write(body);
            BitConverter.TryWriteBytes(frame, EndMark);
            _file.Write(frame[..4]);
            // To the operating system: a killed process loses nothing written before (a power cut is another matter).
            _file.Flush();
            Index(chunk.Pixel, new Entry(offset, chunk.Take, chunk.RateIndex, chunk.ChunkIndex));
        }
    }

    public bool HasPixel(int pixel)
    {
        lock (_gate)
        {
            return _index.ContainsKey(pixel);
        }
    }

    /// <summary>The take of the pixel's last record; null when the pixel has none.</summary>
    public int? LatestTake(int pixel)
    {
        lock (_gate)
        {
            return _index.TryGetValue(pixel, out var entries) ? entries[^1].Take : null;
        }
    }

    /// <summary>
    /// The chunks of the pixel's latest take in the order they were written (a take starts where the take number
    /// changes, or, in logs written before takes were numbered, where rate 0 chunk 0 comes again); empty when the pixel
    /// has no record. For a log written in measurement order: the potentiostat's.
    /// </summary>
    public IReadOnlyList<CurveChunk> ReadPixel(int pixel)
    {
        lock (_gate)
        {
            if (!_index.TryGetValue(pixel, out var entries))
            {
                return [];
            }
            var start = 0;
            for (var k = 1; k < entries.Count; k++)
            {
                if (entries[k].Take != entries[k - 1].Take || entries[k] is { RateIndex: 0, ChunkIndex: 0 })
                {
                    start = k;
                }
            }
            return [.. entries.Skip(start).Select(e => Read(e.Offset))];
        }
    }

    /// <summary>Every chunk of the pixel, of every take, in the order written.</summary>
    public IReadOnlyList<CurveChunk> ReadAllOf(int pixel)
    {
        lock (_gate)
        {
            return _index.TryGetValue(pixel, out var entries) ? [.. entries.Select(e => Read(e.Offset))] : [];
        }
    }

    /// <summary>Every chunk in the order written (one at a time, so a whole scan need not fit in memory).</summary>
    public IEnumerable<CurveChunk> ReadAll()
    {
        long[] offsets;
        lock (_gate)
        {
            offsets = [.. _index.Values.SelectMany(e => e).Select(e => e.Offset).Order()];
        }
        foreach (var offset in offsets)
        {
            CurveChunk chunk;
            lock (_gate)
            {
                chunk = Read(offset);
            }
            yield return chunk;
        }
    }

    /// <summary>Closes the file and deletes it.</summary>
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

    public void Dispose()
    {
        lock (_gate)
        {
            _file.Dispose();
        }
    }

    private void Index(int pixel, Entry entry)
    {
        if (!_index.TryGetValue(pixel, out var list))
        {
            _index[pixel] = list = [];
        }
        list.Add(entry);
    }

    /// <summary>Reads the record at <paramref name="offset"/>; call under the lock.</summary>
    private CurveChunk Read(long offset)
    {
        _file.Seek(offset, SeekOrigin.Begin);
        Span<byte> frame = stackalloc byte[8];
        _file.ReadExactly(frame);
        var body = new byte[BitConverter.ToInt32(frame[4..])];
        _file.ReadExactly(body);
        return Decode(body, BitConverter.ToInt32(frame), ScanId, Path, offset);
    }

    /// <summary>Indexes the complete records; whatever follows the last one is cut off (writer) or ignored (reader).</summary>
    private void Recover(bool writable)
    {
        var length = _file.Length;
        var offset = 0L;
        Span<byte> frame = stackalloc byte[8];
        Span<byte> head = stackalloc byte[20];
        Span<byte> end = stackalloc byte[4];
        while (offset + 12 <= length)
        {
            _file.Seek(offset, SeekOrigin.Begin);
            _file.ReadExactly(frame);
            var magic = BitConverter.ToInt32(frame);
            var bodyBytes = BitConverter.ToInt32(frame[4..]);
            var headBytes = magic == MagicV1 ? 16 : 20;
            if (magic is not (Magic or MagicV2 or MagicV1) || bodyBytes < headBytes || bodyBytes > MaxBodyBytes || offset + 12 + bodyBytes > length)
            {
                break;
            }
            // Schema, pixel, (take,) rate and chunk index lead the body: enough to index without decoding the samples.
            _file.ReadExactly(head[..headBytes]);
            _file.Seek(offset + 8 + bodyBytes, SeekOrigin.Begin);
            _file.ReadExactly(end);
            if (BitConverter.ToInt32(end) != EndMark)
            {
                break;
            }
            var pixel = BitConverter.ToInt32(head[4..]);
            Index(pixel, magic != MagicV1
                ? new Entry(offset, BitConverter.ToInt32(head[8..]), BitConverter.ToInt32(head[12..]), BitConverter.ToInt32(head[16..]))
                : new Entry(offset, 0, BitConverter.ToInt32(head[8..]), BitConverter.ToInt32(head[12..])));
            offset += 12 + bodyBytes;
        }
        if (offset < length)
        {
            TruncatedBytes = length - offset;
            if (writable)
            {
                _file.SetLength(offset);
            }
        }
    }

    private static MemoryStream Encode(CurveChunk c)
    {
        var memory = new MemoryStream(96 + (8 * (c.TimeS.Length + c.PotentialV.Length + c.CurrentA.Length)));
        using (var w = new BinaryWriter(memory, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(c.Schema);
            w.Write(c.Pixel);
            w.Write(c.Take);
            w.Write(c.RateIndex);
            w.Write(c.ChunkIndex);
            w.Write(c.RateCount);
            w.Write(c.ScanRateVPerS);
            w.Write(c.SamplesPerCycle);
            w.Write(c.ChunkCount ?? -1);
            w.Write(c.Last);
            w.Write(c.FirstSampleIndex);
            w.Write(c.StartUtc.UtcTicks);
            w.Write((short)c.StartUtc.Offset.TotalMinutes);
            w.Write(c.Technique);
            WriteArray(w, c.TimeS);
            WriteArray(w, c.PotentialV);
            WriteArray(w, c.CurrentA);
            w.Write(c.SampleFlags ?? "");
        }
        return memory;
    }

    private static void WriteArray(BinaryWriter w, double[] values)
    {
        w.Write(values.Length);
        // Little-endian on every platform .NET runs this service on (x64, arm64), as BinaryWriter writes the rest.
        w.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static CurveChunk Decode(byte[] body, int magic, string scanId, string path, long offset)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(body), Encoding.UTF8);
            var schema = r.ReadInt32();
            var pixel = r.ReadInt32();
            var take = magic == MagicV1 ? 0 : r.ReadInt32();
            var rateIndex = r.ReadInt32();
            var chunkIndex = r.ReadInt32();
            var rateCount = r.ReadInt32();
            var rate = r.ReadDouble();
            var samplesPerCycle = r.ReadInt32();
            var chunkCount = r.ReadInt32();
            var last = r.ReadBoolean();
            var first = r.ReadInt64();
            var ticks = r.ReadInt64();
            var offsetMinutes = r.ReadInt16();
            var start = new DateTimeOffset(ticks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(offsetMinutes));
            var technique = r.ReadString();
            var (time, potential, current) = (ReadArray(r), ReadArray(r), ReadArray(r));
            if (magic == MagicV2 && r.BaseStream.Position < r.BaseStream.Length)
            {
                _ = r.ReadInt32(); // the attempt
            }
            var flags = magic == MagicV1 || r.BaseStream.Position == r.BaseStream.Length ? "" : r.ReadString();
            return new CurveChunk(scanId, pixel, technique, rateIndex, rateCount, rate, samplesPerCycle, chunkIndex, chunkCount < 0 ? null : chunkCount,
                last, first, start, time, potential, current, flags.Length == 0 ? null : flags) { Schema = schema, Take = take };
        }
        catch (Exception ex) when (ex is EndOfStreamException or ArgumentException or IOException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: the record at byte {offset} is unreadable ({ex.Message})", ex);
        }
    }

    private static double[] ReadArray(BinaryReader r)
    {
        var n = r.ReadInt32();
        if (n < 0 || n > (r.BaseStream.Length - r.BaseStream.Position) / 8)
        {
            throw new InvalidDataException($"an array of {n} samples does not fit in the record");
        }
        var values = new double[n];
        r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }
}
