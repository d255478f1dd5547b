namespace Seccm.Curves;

/// <summary>
/// One measured curve: one rate of one take of one pixel of a scan, rebuilt from its <see cref="Contracts.Potentiostat.CurveChunk"/>s
/// in sample order. A take is one measurement of the pixel: a pixel measured again (its first attempt was disturbed)
/// has a second take, and only the last complete take counts.
/// </summary>
public sealed record Curve(
    string ScanId,
    int Pixel,
    int Take,
    int RateIndex,
    double ScanRateVPerS,
    string Technique,
    int SamplesPerCycle,
    double[] TimeS,
    double[] PotentialV,
    double[] CurrentA)
{
    public int Count => PotentialV.Length;
}
