using CsCheck;
using Seccm.Contracts.Potentiostat;
using Seccm.Curves;
using Seccm.Curves.Assembly;
using Seccm.TestSupport;

namespace Seccm.Curves.Tests.Assembly;

public class CurveAssemblerTests
{
    private static List<CurveChunk> Chunks(string scanId, int pixel, IReadOnlyList<(double Rate, double[] E, double[] I)> rates, int chunkSamples,
        string technique = "cv") => CurveChunks.Of(scanId, pixel, rates, chunkSamples, technique);

    private static List<(double, double[], double[])> Rates(int rateCount, int samples) =>
        Enumerable.Range(0, rateCount).Select(r => (
            0.5 * (r + 1),
            Enumerable.Range(0, samples).Select(s => 1.0 + (s * 1e-3) + r).ToArray(),
            Enumerable.Range(0, samples).Select(s => (s * 1e-12) - r).ToArray())).ToList();

    [Fact]
    public void In_order_chunks_rebuild_every_rate_exactly_and_complete_once()
    {
        var rates = Rates(3, 1234);
        var assembler = new CurveAssembler();
        var chunks = Chunks("s1", 7, rates, 100);
        var outcomes = chunks.Select(c => assembler.Add(c, "test")).ToList();
        Assert.All(outcomes[..^1], o => Assert.Equal(ChunkOutcome.Stored, o.Outcome));
        var done = outcomes[^1];
        Assert.Equal(ChunkOutcome.PixelComplete, done.Outcome);
        Assert.Equal(3, done.Curves!.Count);
        for (var r = 0; r < 3; r++)
        {
            Assert.Equal(r, done.Curves[r].RateIndex);
            Assert.Equal(rates[r].Item1, done.Curves[r].ScanRateVPerS);
            Assert.Equal(rates[r].Item2, done.Curves[r].PotentialV);
            Assert.Equal(rates[r].Item3, done.Curves[r].CurrentA);
        }
        Assert.Equal(0, assembler.PixelsInFlight);
        Assert.True(assembler.IsComplete("s1", 7));
        Assert.Equal(ChunkOutcome.Duplicate, assembler.Add(chunks[3], "test").Outcome);
    }

    [Fact]
    public void Shuffled_and_duplicated_chunks_of_interleaved_pixels_rebuild_the_same_curves()
    {
        Gen.Int[0, 1_000_000].Sample(seed =>
        {
            var random = new Random(seed);
            var rates = Rates(random.Next(1, 5), random.Next(20, 600));
            var chunkSamples = random.Next(7, 120);
            var all = Chunks("s", 0, rates, chunkSamples).Concat(Chunks("s", 1, rates, chunkSamples)).ToList();
            // QoS 1 redelivers: a third of the chunks twice.
            all.AddRange(all.Where(_ => random.Next(3) == 0).ToList());
            var shuffled = all.OrderBy(_ => random.Next()).ToList();
            var assembler = new CurveAssembler();
            var complete = new Dictionary<int, IReadOnlyList<Curve>>();
            foreach (var c in shuffled)
            {
                var result = assembler.Add(c, "test");
                if (result.Outcome == ChunkOutcome.PixelComplete)
                {
                    Assert.True(complete.TryAdd(c.Pixel, result.Curves!), $"pixel {c.Pixel} completed twice");
                }
            }
            Assert.Equal(2, complete.Count);
            foreach (var curves in complete.Values)
            {
                Assert.Equal(rates.Count, curves.Count);
                for (var r = 0; r < rates.Count; r++)
                {
                    Assert.Equal(rates[r].Item2, curves[r].PotentialV);
                    Assert.Equal(rates[r].Item3, curves[r].CurrentA);
                }
            }
            Assert.Equal(0, assembler.SamplesInFlight);
        }, iter: 200);
    }

    [Fact]
    public void A_hold_without_chunk_count_completes_when_its_last_chunk_and_all_before_it_are_in()
    {
        var rates = Rates(1, 250);
        var chunks = Chunks("h", 3, rates, 100, "hold").Select(c => c.Last ? c : c with { ChunkCount = null }).ToList();
        var assembler = new CurveAssembler();
        Assert.Equal(ChunkOutcome.Stored, assembler.Add(chunks[2], "t").Outcome);
        Assert.Equal(ChunkOutcome.Stored, assembler.Add(chunks[0], "t").Outcome);
        var done = assembler.Add(chunks[1], "t");
        Assert.Equal(ChunkOutcome.PixelComplete, done.Outcome);
        Assert.Equal("hold", done.Curves![0].Technique);
        Assert.Equal(rates[0].Item3, done.Curves[0].CurrentA);
    }

    [Fact]
    public void Giving_up_returns_the_complete_rates_and_ignores_late_chunks()
    {
        var chunks = Chunks("s", 0, Rates(2, 300), 100);
        var assembler = new CurveAssembler();
        foreach (var c in chunks.Where(c => c.RateIndex == 0 || c.ChunkIndex == 0))
        {
            assembler.Add(c, "t");
        }
        var complete = assembler.TakeCompleteRates("s", 0);
        Assert.Single(complete);
        Assert.Equal(0, complete[0].RateIndex);
        Assert.Equal(ChunkOutcome.Duplicate, assembler.Add(chunks[^1], "t").Outcome);
        Assert.Equal(0, assembler.PixelsInFlight);
    }

    [Theory]
    [InlineData("rateIndex")]
    [InlineData("currentA")]
    [InlineData("chunkCount")]
    [InlineData("scanId")]
    [InlineData("scanRateVPerS")]
    public void Bad_chunks_are_refused_with_the_field_and_change_nothing(string field)
    {
        var good = Chunks("s", 0, Rates(2, 300), 100)[0];
        var bad = field switch
        {
            "rateIndex" => good with { RateIndex = 5 },
            "currentA" => good with { CurrentA = [1.0] },
            "chunkCount" => good with { Last = true, ChunkCount = 7 },
            "scanId" => good with { ScanId = "a/b" },
            _ => good with { ScanRateVPerS = double.NaN },
        };
        var assembler = new CurveAssembler();
        var ex = Assert.Throws<ChunkException>(() => assembler.Add(bad, "seccm/t/potentiostat/data/s/cv"));
        Assert.Contains(field, ex.Message);
        Assert.Contains("seccm/t/potentiostat/data/s/cv", ex.Message);
        Assert.Equal(0, assembler.PixelsInFlight);
    }

    [Fact]
    public void Chunks_contradicting_earlier_ones_are_refused()
    {
        var chunks = Chunks("s", 0, Rates(2, 300), 100);
        var assembler = new CurveAssembler();
        assembler.Add(chunks[0], "t");
        Assert.Contains("rateCount", Assert.Throws<ChunkException>(() => assembler.Add(chunks[1] with { RateCount = 3 }, "t")).Message);
        Assert.Contains("scanRateVPerS", Assert.Throws<ChunkException>(() => assembler.Add(chunks[1] with { ScanRateVPerS = 9 }, "t")).Message);
    }
}
