using Seccm.Electrochemistry.Analysis;

namespace Seccm.Electrochemistry.Tests.Analysis;

/// <summary>The pixel's dEp, one rule for the service's pixel result and for <c>seccm analyze</c>'s maps.</summary>
public sealed class PixelResultTests
{
    // Forward peak at 1.60 V; the reverse peak gives the separation.
    private static CvPeaks Peaks(double rate, double reverseV, bool hasPeak = true) =>
        new(rate, 1.60, 1e-9, reverseV, -1e-9, 1e-12, 0, 0, [], hasPeak);

    private static PixelResult With(IReadOnlyList<double> ratesUsed, params CvPeaks[] curves) =>
        new(1e-10, 0.99, ratesUsed.Count, ratesUsed, 1e-9, 0, double.NaN, PixelFlags.None, curves);

    [Fact]
    public void DEp_is_taken_at_the_fastest_rate_of_the_line_else_at_the_fastest_rate_that_has_one()
    {
        // 1 and 2 V/s on the line, 5 V/s dropped from it: the line's fastest (2 V/s) counts, not the faster dropped one.
        Assert.Equal(0.07, With([1, 2], Peaks(1, 1.54), Peaks(2, 1.53), Peaks(5, 1.50)).DeltaEpAtFastestUsedV, 1e-12);
        // No line: the fastest rate with a peak; a rate without a forward peak or without a reverse one does not count.
        Assert.Equal(0.05, With([], Peaks(1, 1.54), Peaks(2, 1.55), Peaks(5, 1.40, hasPeak: false)).DeltaEpAtFastestUsedV, 1e-12);
        Assert.Equal(0.06, With([2], Peaks(1, 1.54), Peaks(2, double.NaN)).DeltaEpAtFastestUsedV, 1e-12);
        Assert.True(double.IsNaN(With([], Peaks(1, 1.5, hasPeak: false)).DeltaEpAtFastestUsedV));
    }
}
