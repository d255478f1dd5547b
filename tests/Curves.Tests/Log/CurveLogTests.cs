using Seccm.Curves.Log;
using Seccm.TestSupport;

namespace Seccm.Curves.Tests.Log;

public sealed class CurveLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("seccm-curvelog-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<(double, double[], double[])> Rates(int samples) =>
        [(1.25, [.. Enumerable.Range(0, samples).Select(s => s * 1e-3)], [.. Enumerable.Range(0, samples).Select(s => s * 1e-12)])];

    [Fact]
    public void Takes_survive_a_reopening_and_the_latest_one_is_read_by_itself()
    {
        var path = Path.Combine(_dir, "s.curves");
        var first = CurveChunks.Of("s", 3, Rates(90), 40, take: 0);
        var second = CurveChunks.Of("s", 3, Rates(90), 40, take: 1);
        using (var log = CurveLog.Open(path, "s", writable: true))
        {
            foreach (var c in first.Concat(second))
            {
                log.Append(c);
            }
        }
        using var reader = CurveLog.Open(path, "s", writable: false);
        Assert.Equal(1, reader.LatestTake(3));
        Assert.Null(reader.LatestTake(4));
        Assert.Equal(second.Count, reader.ReadPixel(3).Count);
        Assert.All(reader.ReadPixel(3), c => Assert.Equal(1, c.Take));
        Assert.Equal(first.Count + second.Count, reader.ReadAllOf(3).Count);
        Assert.Equal(second[^1].CurrentA, reader.ReadPixel(3)[^1].CurrentA);
        Assert.Equal(second[^1].TimeS, reader.ReadPixel(3)[^1].TimeS);
    }

    [Fact]
    public void A_torn_last_record_is_ignored_by_a_reader_and_cut_off_by_a_writer()
    {
        var path = Path.Combine(_dir, "t.curves");
        var chunks = CurveChunks.Of("t", 0, Rates(100), 50);
        using (var log = CurveLog.Open(path, "t", writable: true))
        {
            chunks.ForEach(log.Append);
        }
        var whole = new FileInfo(path).Length;
        using (var f = new FileStream(path, FileMode.Open))
        {
            f.SetLength(whole - 7);
        }
        using (var reader = CurveLog.Open(path, "t", writable: false))
        {
            Assert.Single(reader.ReadAll());
            Assert.True(reader.TruncatedBytes > 0);
        }
        Assert.Equal(whole - 7, new FileInfo(path).Length);
        using var writer = CurveLog.Open(path, "t", writable: true);
        Assert.True(writer.TruncatedBytes > 0);
        Assert.True(writer.Bytes < whole - 7);
        writer.Append(chunks[1]);
        Assert.Equal(2, writer.ReadAll().Count());
    }

    /// <summary>
    /// The file keeps what the chunk on the bus carries: take and sample flags come back from a replay (the record format
    /// is "CRV3"). Files of earlier formats are still read: "RAWC" (no take, no flags), "CRV2" without a tail and "CRV2"
    /// ending with an attempt and the flags (the attempt is not kept: the take orders the measurements). The old records
    /// are written here byte by byte from their layout, not by the code under test.
    /// </summary>
    [Fact]
    public void Take_and_sample_flags_survive_the_file_and_files_of_each_earlier_format_are_still_read()
    {
        var path = Path.Combine(_dir, "f.curves");
        var chunks = CurveChunks.Of("f", 2, Rates(60), 30, take: 3).Select(c => c with { SampleFlags = "overload|nan" }).ToList();
        using (var log = CurveLog.Open(path, "f", writable: true))
        {
            chunks.ForEach(log.Append);
        }
        Assert.Equal("CRV3"u8.ToArray(), File.ReadAllBytes(path)[..4]);
        using (var reader = CurveLog.Open(path, "f", writable: false))
        {
            Assert.Equal(chunks.Select(c => (c.Take, c.SampleFlags, c.ChunkIndex)), reader.ReadAll().Select(c => (c.Take, c.SampleFlags, c.ChunkIndex)));
        }

        var old = Path.Combine(_dir, "old.curves");
        var c0 = chunks[0];
        using (var f = File.Create(old))
        {
            WriteOld(f, "RAWC", c0 with { Pixel = 1 }, take: null, tail: null);
            WriteOld(f, "CRV2", c0 with { Pixel = 2 }, take: 1, tail: null);
            WriteOld(f, "CRV2", c0 with { Pixel = 3 }, take: 2, tail: (1, "underload"));
        }
        using var oldReader = CurveLog.Open(old, "f", writable: true);
        Assert.Equal(0, oldReader.TruncatedBytes);
        var read = oldReader.ReadAll().ToList();
        Assert.Equal([(1, 0, (string?)null), (2, 1, null), (3, 2, "underload")], read.Select(c => (c.Pixel, c.Take, c.SampleFlags)));
        Assert.All(read, c => Assert.Equal(c0.CurrentA, c.CurrentA));
        Assert.Equal(2, oldReader.LatestTake(3));
        // A writer appends the current format after the old records; both read back.
        oldReader.Append(c0 with { Pixel = 3, Take = 3 });
        Assert.Equal([2, 3], oldReader.ReadAllOf(3).Select(c => c.Take));
    }

    // The record layouts before "CRV3": [magic][body length][body]["REND"]; body = schema, pixel, (take,) rate index,
    // chunk index, rate count, rate, samples per cycle, chunk count (-1 none), last, first sample, start ticks (UTC),
    // offset minutes, technique, time/potential/current arrays (count + little-endian doubles), (attempt, flags).
    private static void WriteOld(Stream file, string magic, Seccm.Contracts.Potentiostat.CurveChunk c, int? take, (int Attempt, string Flags)? tail)
    {
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(c.Schema);
            w.Write(c.Pixel);
            if (take is { } t)
            {
                w.Write(t);
            }
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
            foreach (var values in new[] { c.TimeS, c.PotentialV, c.CurrentA })
            {
                w.Write(values.Length);
                foreach (var v in values)
                {
                    w.Write(v);
                }
            }
            if (tail is { } extra)
            {
                w.Write(extra.Attempt);
                w.Write(extra.Flags);
            }
        }
        using var record = new BinaryWriter(file, System.Text.Encoding.ASCII, leaveOpen: true);
        record.Write(System.Text.Encoding.ASCII.GetBytes(magic));
        record.Write((int)body.Length);
        record.Write(body.ToArray());
        record.Write(System.Text.Encoding.ASCII.GetBytes("REND"));
    }
}
