namespace Seccm.Maps.LongCsv;

/// <summary>
/// One cyclic voltammogram of one pixel at one scan rate, samples in time order (forward sweep first), anodic current
/// positive. <see cref="FirstLine"/> is the file line of its first sample (0 when it did not come from a file), so
/// later analysis can say where a bad curve is.
/// </summary>
public sealed record CvCurve(int PixelX, int PixelY, double ScanRateVPerS, double[] PotentialV, double[] CurrentA)
{
    public long FirstLine { get; init; }

    /// <summary>Samples of the first cycle when a live scan knows it (0 = the whole curve is one cycle).</summary>
    public int SamplesPerCycle { get; init; }

    public int Count => PotentialV.Length;
}
