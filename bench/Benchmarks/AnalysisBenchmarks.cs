using BenchmarkDotNet.Attributes;
using Seccm.Electrochemistry.Analysis;
using Seccm.Electrochemistry.Samples;

namespace Seccm.Benchmarks;

/// <summary>
/// The analysis of one LTO pixel (five CVs of 1.25-20 V/s) against one pass over its samples: the ratio says how many
/// reads of the data the peak search, baseline, wave fit and kinetics cost.
/// </summary>
[MemoryDiagnoser]
public class AnalysisBenchmarks
{
    private readonly AnalysisSettings _settings = new()
    {
        RadiusNm = SampleDefaults.PipetteRadiusNm,
        ConcentrationMolCm3 = SampleDefaults.LtoConcentrationMolCm3,
    };

    private CvCurve[] _curves = [];

    [GlobalSetup]
    public void Setup() => _curves = LtoPixel.Simulate().Select((c, r) => new CvCurve(LtoPixel.RatesVPerS[r], c.PotentialV, c.CurrentA)).ToArray();

    /// <summary>Baseline: the largest |current| of the pixel, one read of every sample and nothing else.</summary>
    [Benchmark(Baseline = true)]
    public double OnePassOverTheSamples()
    {
        double largest = 0;
        foreach (var curve in _curves)
        {
            foreach (var i in curve.CurrentA) largest = Math.Max(largest, Math.Abs(i));
        }
        return largest;
    }

    /// <summary>Peaks and baseline of each of the five CVs (<see cref="CvPeakAnalysis"/>).</summary>
    [Benchmark]
    public double PeaksOfEachCv()
    {
        double sum = 0;
        foreach (var curve in _curves) sum += CvPeakAnalysis.Analyze(curve, _settings).ForwardPeakCurrentA;
        return sum;
    }

    /// <summary>What <c>seccm analyze</c> and the diffusion service do per pixel: D, k0 and flags from the five CVs.</summary>
    [Benchmark]
    public PixelResult PixelAnalysisOfFiveRates() => PixelAnalysis.Analyze(_curves, _settings);
}
