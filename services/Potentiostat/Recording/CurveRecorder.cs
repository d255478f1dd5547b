using System.Text;
using Seccm.Contracts.Potentiostat;

namespace Seccm.Potentiostat.Recording;

/// <summary>
/// The instrument's raw data: every <see cref="CurveChunk"/> of a scan, appended to <c>{directory}/{scanId}.curves</c> before
/// it is published, so that chunks a broker lost (accepted, then killed before delivering them) can be published again
/// byte for byte (<c>cmd/replay</c>). One file per scan; the current scan's file stays open. Thread-safe.
/// </summary>
internal sealed class CurveRecorder(string directory) : IDisposable
{
    public const string Extension = ".curves";

    private readonly object _gate = new();
    private CurveFile? _current;

    public string Directory { get; } = directory;

    public string PathOf(string scanId) => Path.Combine(Directory, scanId + Extension);

    /// <summary>Appends the chunk to its scan's file (handed to the operating system before this returns).</summary>
    public void Append(CurveChunk chunk)
    {
        lock (_gate)
        {
            if (_current?.ScanId != chunk.ScanId)
            {
                _current?.Dispose();
                _current = null;
                _current = CurveFile.Open(PathOf(chunk.ScanId), chunk.ScanId, writable: true);
            }
            _current.Append(chunk);
        }
    }

    /// <summary>
    /// Opens the scan's file for reading (a file of its own, also for the scan being written: records appended later are
    /// not seen); null when this potentiostat has no raw data of the scan.
    /// </summary>
    public CurveFile? OpenReader(string scanId)
    {
        var path = PathOf(scanId);
        return File.Exists(path) ? CurveFile.Open(path, scanId, writable: false) : null;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _current?.Dispose();
            _current = null;
        }
    }
}

/// <summary>
/// One scan's raw-data file: records of [magic, length, body, end mark]; the body is a chunk in binary (doubles bit for
/// bit, so the chunk serialises to the same JSON again). A record cut short by a kill has no end mark; a writer cuts it
/// off on opening, a reader stops before it. Only the offsets of each pixel's latest take stay in memory.
/// </summary>
internal sealed class CurveFile : IDisposable
{
    private const int Magic = 0x43574152; // "RAWC"
    private const int EndMark = 0x444E4552; // "REND"
    private const int MaxBodyBytes = 64 << 20;

    private readonly object _gate = new();
    private readonly FileStream _file;
    private readonly Dictionary<int, List<long>> _takes = [];

    private CurveFile(string path, string scanId, FileStream file)
    {
        Path = path;
        ScanId = scanId;
        _file = file;
    }

    public string Path { get; }

    public string ScanId { get; }

    /// <summary>
    /// The chunks of the pixel's latest measurement in the order they were taken (a pixel measured again after a
    /// disturbed first attempt starts a new take at rate 0, chunk 0); empty when the pixel has no record.
    /// </summary>
    public IReadOnlyList<CurveChunk> ReadPixel(int pixel)
    {
        lock (_gate)
        {
            if (!_takes.TryGetValue(pixel, out var offsets))
            {
                return [];
            }
            var chunks = new List<CurveChunk>(offsets.Count);
            Span<byte> frame = stackalloc byte[8];
            foreach (var offset in offsets)
            {
                _file.Seek(offset, SeekOrigin.Begin);
                _file.ReadExactly(frame);
                var body = new byte[BitConverter.ToInt32(frame[4..])];
                _file.ReadExactly(body);
                chunks.Add(Decode(body, ScanId, Path, offset));
            }
            return chunks;
        }
    }

    /// <summary>Bytes of an unfinished record at the end (cut off when opened for writing).</summary>
    public long TruncatedBytes { get; private set; }

    /// <summary>Pixels with at least one chunk, ascending.</summary>
    public IReadOnlyList<int> Pixels
    {
        get
        {
            lock (_gate)
            {
                return _takes.Keys.Order().ToArray();
            }
        }
    }

    public static CurveFile Open(string path, string scanId, bool writable)
    {
        FileStream stream;
        if (writable)
        {
            System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        }
        else
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        }
        var file = new CurveFile(path, scanId, stream);
        try
        {
            file.Recover(writable);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return file;
    }

    public void Append(CurveChunk chunk)
    {
        var body = Encode(chunk);
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
            Index(chunk.Pixel, chunk.RateIndex == 0 && chunk.ChunkIndex == 0, offset);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _file.Dispose();
        }
    }

    private void Index(int pixel, bool newTake, long offset)
    {
        if (!_takes.TryGetValue(pixel, out var list))
        {
            _takes[pixel] = list = [];
        }
        else if (newTake)
        {
            list.Clear();
        }
        list.Add(offset);
    }

    /// <summary>Indexes the complete records; whatever follows the last one is cut off (writer) or ignored (reader).</summary>
    private void Recover(bool writable)
    {
        var length = _file.Length;
        var offset = 0L;
        Span<byte> frame = stackalloc byte[8];
        Span<byte> end = stackalloc byte[4];
        while (offset + 12 <= length)
        {
            _file.Seek(offset, SeekOrigin.Begin);
            _file.ReadExactly(frame);
            var bodyBytes = BitConverter.ToInt32(frame[4..]);
            if (BitConverter.ToInt32(frame) != Magic || bodyBytes is < 0 or > MaxBodyBytes || offset + 12 + bodyBytes > length)
            {
                break;
            }
            // Pixel, rate and chunk index lead the body: enough to index without decoding the samples.
            var head = new byte[16];
            _file.ReadExactly(head);
            _file.Seek(offset + 8 + bodyBytes, SeekOrigin.Begin);
            _file.ReadExactly(end);
            if (BitConverter.ToInt32(end) != EndMark)
            {
                break;
            }
            Index(BitConverter.ToInt32(head, 4), BitConverter.ToInt32(head, 8) == 0 && BitConverter.ToInt32(head, 12) == 0, offset);
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

    private static byte[] Encode(CurveChunk c)
    {
        using var memory = new MemoryStream(64 + (24 * c.TimeS.Length));
        using (var w = new BinaryWriter(memory, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(c.Schema);
            w.Write(c.Pixel);
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
        }
        return memory.ToArray();
    }

    private static void WriteArray(BinaryWriter w, double[] values)
    {
        w.Write(values.Length);
        foreach (var v in values)
        {
            w.Write(v);
        }
    }

    private static CurveChunk Decode(byte[] body, string scanId, string path, long offset)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(body), Encoding.UTF8);
            var schema = r.ReadInt32();
            var pixel = r.ReadInt32();
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
            return new CurveChunk(scanId, pixel, technique, rateIndex, rateCount, rate, samplesPerCycle, chunkIndex, chunkCount < 0 ? null : chunkCount,
                last, first, start, ReadArray(r), ReadArray(r), ReadArray(r)) { Schema = schema };
        }
        catch (Exception ex) when (ex is EndOfStreamException or ArgumentException or IOException)
        {
            throw new InvalidDataException($"{path}: the record at byte {offset} is unreadable ({ex.Message})", ex);
        }
    }

    private static double[] ReadArray(BinaryReader r)
    {
        var n = r.ReadInt32();
        if (n < 0 || n > r.BaseStream.Length / 8)
        {
            throw new InvalidDataException($"an array of {n} samples does not fit in the record");
        }
        var values = new double[n];
        for (var k = 0; k < n; k++)
        {
            values[k] = r.ReadDouble();
        }
        return values;
    }
}
