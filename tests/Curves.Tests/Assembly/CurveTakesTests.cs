using Seccm.Curves.Assembly;
using Seccm.TestSupport;

namespace Seccm.Curves.Tests.Assembly;

/// <summary>A pixel measured again (a later take) replaces its earlier takes; only the last complete take counts.</summary>
public sealed class CurveTakesTests
{
    private static List<(double, double[], double[])> Rates(int rateCount, int samples, double scale) =>
        Enumerable.Range(0, rateCount).Select(r => (
            0.5 * (r + 1),
            Enumerable.Range(0, samples).Select(s => 1.0 + (s * 1e-3) + r).ToArray(),
            Enumerable.Range(0, samples).Select(s => scale * ((s * 1e-12) - r)).ToArray())).ToList();

    [Fact]
    public void A_later_take_completes_the_pixel_again_with_its_own_curves()
    {
        var first = CurveChunks.Of("s", 4, Rates(2, 300, 1), 100, take: 0);
        var second = CurveChunks.Of("s", 4, Rates(2, 300, 2), 100, take: 1);
        var assembler = new CurveAssembler();
        Assert.Equal(ChunkOutcome.PixelComplete, first.Select(c => assembler.Add(c, "t")).ToList()[^1].Outcome);
        Assert.True(assembler.IsComplete("s", 4));

        Assert.Equal(ChunkOutcome.Stored, assembler.Add(second[0], "t").Outcome);
        Assert.False(assembler.IsComplete("s", 4));
        Assert.Equal(1, assembler.LatestTake("s", 4));
        // A late copy of the first take changes nothing.
        Assert.Equal(ChunkOutcome.Duplicate, assembler.Add(first[1], "t").Outcome);
        var done = second.Skip(1).Select(c => assembler.Add(c, "t")).ToList()[^1];
        Assert.Equal(ChunkOutcome.PixelComplete, done.Outcome);
        Assert.All(done.Curves!, c => Assert.Equal(1, c.Take));
        Assert.Equal(Rates(2, 300, 2)[1].Item3, done.Curves![1].CurrentA);
        Assert.Equal(0, assembler.SamplesInFlight);
    }

    [Fact]
    public void Assembling_kept_chunks_gives_the_last_complete_take_whatever_their_order()
    {
        var first = CurveChunks.Of("s", 2, Rates(2, 250, 1), 60, take: 0);
        var second = CurveChunks.Of("s", 2, Rates(2, 250, 3), 60, take: 1);
        var random = new Random(5);
        var both = first.Concat(second).Concat(first.Take(3)).OrderBy(_ => random.Next()).ToList();
        var curves = CurveAssembler.Assemble(both, "t");
        Assert.All(curves, c => Assert.Equal(1, c.Take));
        Assert.Equal(Rates(2, 250, 3)[0].Item3, curves[0].CurrentA);

        // The second take cut short (its last chunk never came): the complete first take counts.
        var partial = first.Concat(second.Take(second.Count - 1)).OrderBy(_ => random.Next()).ToList();
        var fallback = CurveAssembler.Assemble(partial, "t");
        Assert.Equal(2, fallback.Count);
        Assert.All(fallback, c => Assert.Equal(0, c.Take));
        Assert.Equal(Rates(2, 250, 1)[1].Item3, fallback[1].CurrentA);
    }
}
