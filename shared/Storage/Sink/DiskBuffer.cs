using System.Globalization;
using System.Text;

namespace Seccm.Storage.Sink;

/// <summary>
/// The outage buffer: append-only segment files of line protocol named by a sequence number, read back
/// oldest first. Each running sink locks its own slot directory (slot-0, slot-1, ...) so processes that
/// share a BufferDirectory never replay each other's segments twice; a restarted process takes a free slot
/// and replays whatever the previous owner left there.
/// </summary>
internal sealed class DiskBuffer : IDisposable
{
    private const string SegmentPrefix = "seg-";
    private const string SegmentSuffix = ".lp";
    private const int MaxSlots = 64;

    private readonly object _sync = new();
    private readonly SortedDictionary<long, Segment> _segments = new();
    private readonly FileStream _lock;
    private readonly long _maxBytes;
    private long _bytes;

    private DiskBuffer(string directory, FileStream lockFile, long maxBytes)
    {
        SlotDirectory = directory;
        _lock = lockFile;
        _maxBytes = maxBytes;
        foreach (var tmp in Directory.EnumerateFiles(directory, "*.tmp"))
        {
            // A crash between writing and renaming: the batch was never acknowledged as persisted, but its
            // points were not delivered either, so keep them as a regular segment.
            var seq = ParseSequence(Path.GetFileNameWithoutExtension(tmp));
            if (seq is not null && !File.Exists(SegmentPath(seq.Value)))
            {
                File.Move(tmp, SegmentPath(seq.Value));
            }
            else
            {
                File.Delete(tmp);
            }
        }
        foreach (var path in Directory.EnumerateFiles(directory, SegmentPrefix + "*" + SegmentSuffix))
        {
            var seq = ParseSequence(Path.GetFileName(path));
            if (seq is null)
            {
                continue;
            }
            var bytes = new FileInfo(path).Length;
            _segments[seq.Value] = new Segment(seq.Value, path, bytes);
            _bytes += bytes;
        }
    }

    public string SlotDirectory { get; }

    public string QuarantineDirectory => Path.Combine(Path.GetDirectoryName(SlotDirectory)!, "quarantine");

    /// <summary>The sequence number after the newest segment on disk (0 when empty).</summary>
    public long NextSequence
    {
        get
        {
            lock (_sync)
            {
                return _segments.Count == 0 ? 0 : _segments.Keys.Max() + 1;
            }
        }
    }

    public bool IsEmpty
    {
        get
        {
            lock (_sync)
            {
                return _segments.Count == 0;
            }
        }
    }

    public (int Segments, long Bytes) Size
    {
        get
        {
            lock (_sync)
            {
                return (_segments.Count, _bytes);
            }
        }
    }

    /// <summary>Locks the first free slot under <paramref name="root"/>.</summary>
    public static DiskBuffer Open(string root, long maxBytes)
    {
        var full = Path.GetFullPath(root);
        Directory.CreateDirectory(full);
        for (var slot = 0; slot < MaxSlots; slot++)
        {
            var dir = Path.Combine(full, string.Create(CultureInfo.InvariantCulture, $"slot-{slot}"));
            Directory.CreateDirectory(dir);
            FileStream lockFile;
            try
            {
                lockFile = new FileStream(Path.Combine(dir, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                continue; // another running sink owns this slot
            }
            return new DiskBuffer(dir, lockFile, maxBytes);
        }
        throw new IOException($"All {MaxSlots} slots of the storage buffer directory {full} are locked by running sinks; set Storage:BufferDirectory to another folder.");
    }

    /// <summary>
    /// Writes one segment (temp file, fsync, rename, so a crash never leaves half a segment under a real name).
    /// Returns how many lines of older segments were evicted to stay under the size limit.
    /// </summary>
    public long Persist(long sequence, IReadOnlyList<string> lines)
    {
        var path = SegmentPath(sequence);
        var tmp = Path.ChangeExtension(path, ".tmp");
        long bytes;
        using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024))
        {
            var body = Backends.LineProtocolBody.Encode(lines);
            file.Write(body);
            file.Flush(flushToDisk: true);
            bytes = body.Length;
        }
        File.Move(tmp, path, overwrite: true);

        long evictedLines = 0;
        lock (_sync)
        {
            _segments[sequence] = new Segment(sequence, path, bytes);
            _bytes += bytes;
            while (_bytes > _maxBytes && _segments.Count > 1)
            {
                var oldest = _segments.First().Value;
                evictedLines += CountLines(oldest.Path);
                RemoveLocked(oldest);
            }
        }
        return evictedLines;
    }

    public bool TryPeekOldest(out Segment segment)
    {
        lock (_sync)
        {
            if (_segments.Count == 0)
            {
                segment = default;
                return false;
            }
            segment = _segments.First().Value;
            return true;
        }
    }

    public static string[] ReadLines(Segment segment)
    {
        var text = File.ReadAllText(segment.Path, Encoding.UTF8);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Deletes a segment whose points were delivered (no-op if it was already evicted).</summary>
    public void Remove(Segment segment)
    {
        lock (_sync)
        {
            if (_segments.TryGetValue(segment.Sequence, out var current) && current.Path == segment.Path)
            {
                RemoveLocked(current);
            }
        }
    }

    public bool Contains(Segment segment)
    {
        lock (_sync)
        {
            return _segments.ContainsKey(segment.Sequence);
        }
    }

    private void RemoveLocked(Segment segment)
    {
        _segments.Remove(segment.Sequence);
        _bytes -= segment.Bytes;
        File.Delete(segment.Path);
    }

    private static long CountLines(string path)
    {
        try
        {
            long n = 0;
            foreach (var b in File.ReadAllBytes(path))
            {
                if (b == (byte)'\n')
                {
                    n++;
                }
            }
            return n;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private string SegmentPath(long sequence) =>
        Path.Combine(SlotDirectory, string.Create(CultureInfo.InvariantCulture, $"{SegmentPrefix}{sequence:D19}{SegmentSuffix}"));

    private static long? ParseSequence(string fileName)
    {
        if (!fileName.StartsWith(SegmentPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        var digits = fileName[SegmentPrefix.Length..];
        var dot = digits.IndexOf('.', StringComparison.Ordinal);
        if (dot >= 0)
        {
            digits = digits[..dot];
        }
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) ? seq : null;
    }

    public void Dispose() => _lock.Dispose();

    internal readonly record struct Segment(long Sequence, string Path, long Bytes);
}
