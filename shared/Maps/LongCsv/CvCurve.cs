namespace Seccm.Maps.LongCsv;

/// <summary>
/// One cyclic voltammogram of one pixel at one scan rate, samples in time order (forward sweep first), anodic current
/// positive. <see cref="FirstLine"/> is the file line of its first sample (0 when it did not come from a file), so
/// later analysis can say where a bad curve is.
/// </summary>
public sealed record CvCurve(int PixelX, int PixelY, double ScanRateVPerS, double[] PotentialV, double[] CurrentA)
{
    public long FirstLine { get; init; }

    public int Count => PotentialV.Length;
}
