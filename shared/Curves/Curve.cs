namespace Seccm.Curves;

/// <summary>
/// One measured curve: one rate of one take of one pixel of a scan, rebuilt from its <see cref="Contracts.Potentiostat.CurveChunk"/>s
/// in sample order. A take is one measurement of the pixel: a pixel measured again (its first attempt was disturbed)
/// has a second take, and only the last complete take counts. <see cref="SampleFlagBits"/>: the device's marks on any of
/// its samples (<see cref="Contracts.Potentiostat.SampleFlagNames"/>).
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
    double[] CurrentA,
    int SampleFlagBits = 0)
{
    public int Count => PotentialV.Length;
}
