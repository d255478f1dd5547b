namespace Seccm.Maps.LongCsv;

/// <summary>
/// One cyclic voltammogram of one pixel at one scan rate, samples in time order (forward sweep first), anodic current
/// positive. <see cref="FirstLine"/> is the file line of its first sample (0 when it did not come from a file), so
/// later analysis can say where a bad curve is.
/// <para>
/// Not the assembled <c>Seccm.Curves.Curve</c> on purpose: that one is named by scan, pixel index, take and rate
/// index, which a long CSV (another lab's file, or our export read back) does not have; a row is named by its grid
/// position and its line in the file, and is read in one pass before the grid's width is known (so no index can be
/// made). The service turns its <c>Curve</c>s into these for the shared exporter (<c>MapExporter.Curves</c>) with the
/// position from the pixel's result.
/// </para>
/// </summary>
public sealed record CvCurve(int PixelX, int PixelY, double ScanRateVPerS, double[] PotentialV, double[] CurrentA)
{
    public long FirstLine { get; init; }

    /// <summary>Samples of the first cycle when a live scan knows it (0 = the whole curve is one cycle).</summary>
    public int SamplesPerCycle { get; init; }

    public int Count => PotentialV.Length;
}
