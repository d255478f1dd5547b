using Seccm.Contracts.Potentiostat;
using Seccm.Curves;
using Seccm.Curves.Assembly;
using Seccm.Diffusion.Assembly;
using Seccm.TestSupport;

namespace Seccm.Diffusion.Tests.Assembly;

public sealed class CurveSpillTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("seccm-spill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<(double, double[], double[])> Rates(int rateCount, int samples) =>
        Enumerable.Range(0, rateCount).Select(r => (
            0.5 * (r + 1),
            Enumerable.Range(0, samples).Select(s => 1.0 + (s * 1e-3) + r).ToArray(),
            Enumerable.Range(0, samples).Select(s => (s * 1e-12) - r).ToArray())).ToList();

    private static void AssertSameCurves(List<(double Rate, double[] E, double[] I)> expected, IReadOnlyList<Curve> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var r = 0; r < expected.Count; r++)
        {
            Assert.Equal(r, actual[r].RateIndex);
            Assert.Equal(expected[r].Rate, actual[r].ScanRateVPerS);
            Assert.Equal(expected[r].E, actual[r].PotentialV);
            Assert.Equal(expected[r].I, actual[r].CurrentA);
        }
    }

    [Fact]
    public void Chunks_written_by_one_process_are_read_back_exactly_by_the_next()
    {
        var path = Path.Combine(_dir, "w-s1.chunks");
        var rates0 = Rates(3, 1000);
        var rates1 = Rates(2, 250);
        var chunks = CurveChunks.Of("s1", 0, rates0, 300).Concat(CurveChunks.Of("s1", 1, rates1, 100, "hold")).ToList();
        using (var first = CurveSpill.Open(path, "s1"))
        {
            foreach (var c in chunks)
            {
                first.AppendChunk(c);
            }
            AssertSameCurves(rates0, first.ReadPixel(0));
        }

        using var second = CurveSpill.Open(path, "s1");
        Assert.Equal(0, second.TruncatedBytes);
        Assert.Equal([0, 1], second.Pixels);
        AssertSameCurves(rates0, second.ReadPixel(0));
        var hold = second.ReadPixel(1);
        AssertSameCurves(rates1, hold);
        Assert.All(hold, c => Assert.Equal("hold", c.Technique));
        var replayed = second.ReadAllChunks().ToList();
        Assert.Equal(chunks.Count, replayed.Count);
        Assert.Equal(chunks.Select(c => (c.Pixel, c.RateIndex, c.ChunkIndex, c.Last, c.FirstSampleIndex, c.ChunkCount)),
            replayed.Select(c => (c.Pixel, c.RateIndex, c.ChunkIndex, c.Last, c.FirstSampleIndex, c.ChunkCount)));
        Assert.Empty(second.ReadPixel(7));
    }

    /// <summary>
    /// Pins: a re-measured pixel (take 1, after a curve the device flagged) replaces the first measurement in the
    /// assembler and in the spill read back by the next process, and the device's sample flags survive the spill.
    /// </summary>
    [Fact]
    public void A_remeasured_pixel_replaces_the_flagged_first_measurement_and_the_flags_survive_the_spill()
    {
        var path = Path.Combine(_dir, "w-s9.chunks");
        var first = CurveChunks.Of("s9", 0, Rates(2, 100), 30).Select(c => c with { SampleFlags = c.RateIndex == 1 ? "overload" : null }).ToList();
        var again = Rates(2, 100).Select(r => (r.Item1, r.Item2, r.Item3.Select(i => i + 1e-9).ToArray())).ToList();
        var second = CurveChunks.Of("s9", 0, again, 30).Select(c => c with { Take = 1 }).ToList();
        var assembler = new CurveAssembler();
        using (var spill = CurveSpill.Open(path, "s9"))
        {
            var results = first.Select(c => assembler.Add(c, "test")).ToList();
            Assert.Equal(ChunkOutcome.PixelComplete, results[^1].Outcome);
            Assert.Equal(0x2, results[^1].Curves!.Aggregate(0, (b, c) => b | c.SampleFlagBits));
            // A late copy of the first measurement is a duplicate; the re-measurement assembles afresh.
            Assert.Equal(ChunkOutcome.Duplicate, assembler.Add(first[0], "test").Outcome);
            var again0 = second.Select(c => assembler.Add(c, "test")).ToList();
            Assert.Equal(ChunkOutcome.PixelComplete, again0[^1].Outcome);
            AssertSameCurves(again, again0[^1].Curves!);
            Assert.Equal(ChunkOutcome.Duplicate, assembler.Add(first[^1], "test").Outcome);
            foreach (var c in first.Concat(second))
            {
                spill.AppendChunk(c);
            }
        }
        using var reopened = CurveSpill.Open(path, "s9");
        AssertSameCurves(again, reopened.ReadPixel(0));
        Assert.All(reopened.ReadPixel(0), c => Assert.Equal(0, c.SampleFlagBits));
        var replayed = reopened.ReadAllChunks().ToList();
        Assert.Equal(first.Concat(second).Select(c => (c.Take, c.SampleFlags, c.Last)), replayed.Select(c => (c.Take, c.SampleFlags, c.Last)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(56)]
    [InlineData(1000)]
    public void A_record_cut_short_by_a_kill_is_cut_off_and_the_pixel_completes_with_the_chunk_sent_again(int bytesLost)
    {
        var path = Path.Combine(_dir, "w-s2.chunks");
        var rates = Rates(2, 600);
        var chunks = CurveChunks.Of("s2", 3, rates, 200);
        using (var first = CurveSpill.Open(path, "s2"))
        {
            foreach (var c in chunks)
            {
                first.AppendChunk(c);
            }
        }
        var full = new FileInfo(path).Length;
        using (var f = new FileStream(path, FileMode.Open))
        {
            f.SetLength(full - bytesLost);
        }

        using var second = CurveSpill.Open(path, "s2");
        Assert.True(second.TruncatedBytes > 0);
        Assert.Equal(chunks.Count - 1, second.ReadAllChunks().Count());
        // The last rate is incomplete: only the complete one comes back.
        Assert.Single(second.ReadPixel(3));
        // The broker redelivers the unacknowledged chunk; appended after the cut, it completes the pixel.
        second.AppendChunk(chunks[^1]);
        AssertSameCurves(rates, second.ReadPixel(3));
        using var third = CurveSpill.Open(path, "s2");
        Assert.Equal(0, third.TruncatedBytes);
        AssertSameCurves(rates, third.ReadPixel(3));
    }

    [Fact]
    public void Delete_removes_the_file()
    {
        var path = Path.Combine(_dir, "w-s3.chunks");
        var spill = CurveSpill.Open(path, "s3");
        spill.AppendChunk(CurveChunks.Of("s3", 0, Rates(1, 10), 10)[0]);
        spill.Delete();
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Garbage_in_place_of_a_spill_file_is_cut_off_not_read()
    {
        var path = Path.Combine(_dir, "w-s4.chunks");
        File.WriteAllBytes(path, [.. Enumerable.Range(0, 500).Select(i => (byte)(i * 37))]);
        using var spill = CurveSpill.Open(path, "s4");
        Assert.Equal(500, spill.TruncatedBytes);
        Assert.Empty(spill.Pixels);
        Assert.Equal(0, spill.Bytes);
    }
}
