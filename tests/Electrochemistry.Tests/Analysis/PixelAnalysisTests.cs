using Seccm.Electrochemistry.Analysis;
using Seccm.Electrochemistry.Samples;
using Seccm.Electrochemistry.Simulation;

namespace Seccm.Electrochemistry.Tests.Analysis;

public class PixelAnalysisTests
{
    internal static readonly double[] MapRates = [1.25, 2.5, 5, 10, 20];

    internal static List<CvCurve> Measure(Sample sample, double xUm, double yUm, double[] rates, PipetteSettings pipette, double stepV = 0.001)
    {
        var (start, vertex) = sample.DefaultWindowV;
        var curves = new List<CvCurve>();
        for (int k = 0; k < rates.Length; k++)
        {
            var electrode = sample.ElectrodeAt(xUm, yUm, pipette with { NoiseSeed = pipette.NoiseSeed * 31 + k });
            var sim = CvSimulator.Cv(electrode, new CvProtocol(start, vertex, start, stepV, rates[k]));
            curves.Add(new CvCurve(rates[k], sim.PotentialV, sim.CurrentA));
        }
        return curves;
    }

    // Our simulated potentiostat declares its current amplifier, as a real one would in its file header.
    private static readonly AnalysisSettings Lto = new() { RadiusNm = 55, ConcentrationMolCm3 = 0.0227, MeasurementBandwidthHz = SampleDefaults.CurrentAmplifierBandwidthHz };

    [Theory]
    [InlineData(1.0, 1.0, 1)]
    [InlineData(2.5, 2.5, 2)]
    [InlineData(4.0, 1.5, 3)]
    [InlineData(0.7, 4.2, 4)]
    public void Recovers_LTO_D_within_5_percent_from_noisy_CVs_with_charging_iR_and_leakage(double x, double y, int seed)
    {
        var sample = SampleCatalog.Create("lto", seed: 11);
        var pipette = new PipetteSettings(NoiseRmsA: 0.1e-12, NoiseSeed: seed);
        var result = PixelAnalysis.Analyze(Measure(sample, x, y, MapRates, pipette), Lto);
        double truth = sample.TrueDCm2PerS(x, y);
        Assert.InRange(result.DCm2PerS / truth, 0.95, 1.05);
        Assert.Equal(5, result.RatesUsed);
        Assert.True(result.RSquared > 0.98, $"R^2 {result.RSquared}");
        Assert.True(result.Flags.HasFlag(PixelFlags.Kinetic));
        Assert.False(result.Flags.HasFlag(PixelFlags.SplitWave));
    }

    // The paper's rates around its limit, up to the potentiostat's fastest (50 V/s).
    internal static readonly double[] Fig2cRates = [0.1, 0.25, 0.5, 1.25, 2.5, 5, 10, 20, 25, 50];

    [Fact]
    public void LTO_ip_is_linear_in_sqrt_v_up_to_25_V_per_s_and_bends_below_it_above_through_the_pA_amplifier()
    {
        // The paper's Fig. 2c limit: at 55 nm and 0.2 pA of noise the range ends at 25 V/s, D from it stays right.
        var sample = SampleCatalog.Create("lto", seed: 1);
        var result = PixelAnalysis.Analyze(Measure(sample, 2.5, 2.5, Fig2cRates, new PipetteSettings(NoiseRmsA: 0.2e-12, NoiseSeed: 5), 0.005), Lto);
        Assert.Equal(25, result.RatesUsedVPerS.Max());
        Assert.True(result.Flags.HasFlag(PixelFlags.Saturated), result.FlagText);
        Assert.InRange(result.DCm2PerS / sample.TrueDCm2PerS(2.5, 2.5), 0.95, 1.05);
        // And it is the amplifier: ip at 50 V/s is under the sqrt(v) line of the slow rates.
        var slow = result.Curves.Where(c => c.ScanRateVPerS <= 25).Average(c => Math.Abs(c.ForwardPeakCurrentA) / Math.Sqrt(c.ScanRateVPerS));
        var fastest = result.Curves[^1];
        Assert.True(Math.Abs(fastest.ForwardPeakCurrentA) / Math.Sqrt(fastest.ScanRateVPerS) < 0.95 * slow);
    }

    [Fact]
    public void With_an_ideal_amplifier_LTO_ip_stays_linear_in_sqrt_v_up_to_50_V_per_s()
    {
        var sample = SampleCatalog.Create("lto", seed: 1);
        var curves = Measure(sample, 2.5, 2.5, Fig2cRates, new PipetteSettings(MeasurementBandwidthHz: null), 0.005);
        var result = PixelAnalysis.Analyze(curves, Lto with { MeasurementBandwidthHz = null });
        Assert.Equal(50, result.RatesUsedVPerS.Max());
        Assert.False(result.Flags.HasFlag(PixelFlags.Saturated), result.FlagText);
    }

    [Fact]
    public void Recovers_D_of_a_reversible_couple_without_any_correction()
    {
        var couple = new RedoxCouple(1.55, 10, 0.5, 3e-11, 0.0227);
        var curves = MapRates.Select(v =>
        {
            var sim = CvSimulator.Cv(new Electrode([couple], SampleDefaults.PipetteAreaCm2, NoiseRmsA: 0.1e-12, NoiseSeed: (int)(v * 8), DoubleLayerF: 2e-15, LeakageAPerV: 2e-14),
                new CvProtocol(1.0, 2.1, 1.0, 0.001, v));
            return new CvCurve(v, sim.PotentialV, sim.CurrentA);
        }).ToList();
        var result = PixelAnalysis.Analyze(curves, Lto);
        Assert.InRange(result.DCm2PerS / 3e-11, 0.97, 1.03);
        Assert.False(result.Flags.HasFlag(PixelFlags.Kinetic));
    }

    [Fact]
    public void Thin_layer_rates_are_left_out_and_flagged()
    {
        // 30 nm film: at 1-10 mV/s the film is converted (ip ~ v), at >= 1.25 V/s semi-infinite.
        var couple = new RedoxCouple(1.55, 10, 0.5, 2.47e-11, 0.0227);
        double[] rates = [0.001, 0.01, 1.25, 2.5, 5, 10, 20];
        var curves = rates.Select(v =>
        {
            var sim = CvSimulator.Cv(new Electrode([couple], SampleDefaults.PipetteAreaCm2, 60e-7), new CvProtocol(1.0, 2.1, 1.0, 0.001, v));
            return new CvCurve(v, sim.PotentialV, sim.CurrentA);
        }).ToList();
        var result = PixelAnalysis.Analyze(curves, Lto);
        Assert.True(result.Flags.HasFlag(PixelFlags.ThinLayer));
        Assert.DoesNotContain(0.001, result.RatesUsedVPerS);
        Assert.InRange(result.DCm2PerS / 2.47e-11, 0.95, 1.05);
    }

    [Fact]
    public void Bare_substrate_has_no_peak_and_no_D()
    {
        var sample = SampleCatalog.Create("substrate");
        var result = PixelAnalysis.Analyze(Measure(sample, 1, 1, MapRates, new PipetteSettings(NoiseRmsA: 0.1e-12)), Lto);
        Assert.True(result.Flags.HasFlag(PixelFlags.NoPeak));
        Assert.True(double.IsNaN(result.DCm2PerS));
    }

    [Fact]
    public void One_rate_is_too_few()
    {
        var sample = SampleCatalog.Create("lto");
        var result = PixelAnalysis.Analyze(Measure(sample, 1, 1, [1.25], new PipetteSettings()), Lto);
        Assert.True(result.Flags.HasFlag(PixelFlags.TooFewRates));
        Assert.True(double.IsNaN(result.DCm2PerS));
    }

    [Fact]
    public void Bad_settings_and_curves_are_rejected_with_what_was_wrong()
    {
        var curves = Measure(SampleCatalog.Create("lto"), 1, 1, [1.25, 2.5], new PipetteSettings());
        var ex = Assert.Throws<ArgumentException>(() => PixelAnalysis.Analyze(curves, Lto with { RadiusNm = -5 }));
        Assert.Contains("radius", ex.Message);
        var shortCurve = new CvCurve(1, [1, 2, 3], [0, 0, 0]);
        var ex2 = Assert.Throws<ArgumentException>(() => PixelAnalysis.Analyze([shortCurve, shortCurve], Lto));
        Assert.Contains("at least", ex2.Message);
        // A sample that is not a number is named wherever it stands: in the first, the middle or the last few samples.
        foreach (int at in new[] { 0, 5, 37, 97, 98, 99 })
            foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
                foreach (bool inCurrent in new[] { false, true })
                {
                    var e = Enumerable.Range(0, 100).Select(k => 1 + 0.001 * k).ToArray();
                    var i = new double[100];
                    (inCurrent ? i : e)[at] = bad;
                    var ex3 = Assert.Throws<ArgumentException>(() => PixelAnalysis.Analyze([new CvCurve(1, e, i), new CvCurve(2, e, i)], Lto));
                    Assert.Contains($"sample {at} is not a finite number", ex3.Message);
                }
    }
}
