using Seccm.Electrochemistry.Samples;
using Seccm.Electrochemistry.Simulation;

namespace Seccm.Benchmarks;

/// <summary>
/// The input the micro-benchmarks share: one pixel of the LTO D map as the instrument measures it (the sample's
/// window, 1 mV steps, the D-map rates 1.25-20 V/s, 0.1 pA noise), simulated once per benchmark class.
/// </summary>
public static class LtoPixel
{
    public static readonly double[] RatesVPerS = [1.25, 2.5, 5, 10, 20];

    public const double StepV = 0.001;

    public static Electrode Electrode(int noiseSeed)
    {
        var sample = SampleCatalog.Create("lto", 1);
        double centreUm = sample.ScanSizeUm / 2;
        return sample.ElectrodeAt(centreUm, centreUm, new PipetteSettings(NoiseRmsA: 0.1e-12, NoiseSeed: noiseSeed));
    }

    public static CvProtocol Protocol(double rateVPerS)
    {
        var (start, vertex) = SampleCatalog.Create("lto", 1).DefaultWindowV;
        return new CvProtocol(start, vertex, start, StepV, rateVPerS);
    }

    /// <summary>The pixel's CVs, one per rate.</summary>
    public static SimulatedCurve[] Simulate() =>
        RatesVPerS.Select((rate, r) => CvSimulator.Cv(Electrode(r), Protocol(rate))).ToArray();
}
