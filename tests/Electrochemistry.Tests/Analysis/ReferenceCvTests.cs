using System.Globalization;
using Seccm.Electrochemistry.Analysis;
using Xunit.Abstractions;

namespace Seccm.Electrochemistry.Tests.Analysis;

/// <summary>
/// Acceptance against references that are not our simulator: CVs from the Nicholson-Shain integral equation
/// (<see cref="IntegralEquationCv"/>), Nicholson's published psi table, and real CVs from other labs.
/// </summary>
public class ReferenceCvTests(ITestOutputHelper output)
{
    private const double F = 96485.33212, R = 8.314462618, T = 298.15;
    private static readonly double FOverRt = F / (R * T);
    private const double D = 2.47e-11, C = 0.0227, E0 = 1.55;
    private static readonly double Area = Math.PI * Math.Pow(55e-7, 2);
    private static readonly double[] Rates = [1.25, 2.5, 5, 10, 20];
    private static readonly AnalysisSettings Lto = new() { RadiusNm = 55, ConcentrationMolCm3 = C };

    private static List<CvCurve> Reversible(double startV, double vertexV, double stepV) =>
        Rates.Select(v =>
        {
            var (e, i) = IntegralEquationCv.Cycle(startV, vertexV, stepV, v, E0, D, Area, C, substeps: 10);
            return new CvCurve(v, e, i);
        }).ToList();

    [Fact]
    public void The_integral_equation_oracle_gives_the_published_reversible_peak()
    {
        // Nicholson and Shain (1964): ip = 0.4463 F A C sqrt(D f v), Ep = E1/2 + 28.5 mV for an oxidation at 25 C.
        var (e, i) = IntegralEquationCv.Cycle(1.2, 1.9, 0.0002, 1, E0, D, Area, C, substeps: 10);
        int k = Array.IndexOf(i, i.Max());
        double expected = 0.4463 * F * Area * C * Math.Sqrt(D * FOverRt * 1);
        Assert.InRange(i[k] / expected, 0.999, 1.001);
        Assert.InRange(e[k] - E0, 0.0280, 0.0290);
    }

    /// <summary>Nicholson, Anal. Chem. 37 (1965) 1351, Table I: psi and n dEp (mV) for alpha 0.5, 25 C.</summary>
    public static TheoryData<double, double> NicholsonTable => new()
    {
        { 20, 61 }, { 7, 63 }, { 6, 64 }, { 5, 65 }, { 4, 66 }, { 3, 68 }, { 2, 72 }, { 1, 84 }, { 0.75, 92 }, { 0.5, 105 }, { 0.35, 121 }, { 0.25, 141 }, { 0.1, 212 },
    };

    [Theory]
    [MemberData(nameof(NicholsonTable))]
    public void The_oracle_and_our_working_curve_reproduce_Nicholsons_psi_table(double psi, double dEpMv)
    {
        const double d = 1e-5, v = 1;
        double k0 = psi * Math.Sqrt(Math.PI * d * FOverRt * v);
        var (e, i) = IntegralEquationCv.Cycle(-0.6, 0.6, 0.0005, v, 0, d, 1, 1e-6, k0, 0.5, substeps: 4);
        int half = e.Length / 2;
        int a = Array.IndexOf(i, i[..half].Max());
        int b = half + Array.IndexOf(i[half..], i[half..].Min());
        double sep = (e[a] - e[b]) * 1e3;
        output.WriteLine($"psi {psi}: oracle dEp {sep:0.0} mV, table {dEpMv} mV, working curve psi {KineticWorkingCurve.PsiFromPeakSeparation(dEpMv / 1e3):0.000}");
        // The table is given to the mV for a switching potential near the wave; this window switches 600 mV past E0,
        // which narrows a reversible dEp by about 2 mV, and the oracle's steps are 0.5 mV.
        double tolerance = 2.5 + 0.03 * dEpMv;
        Assert.InRange(sep, dEpMv - tolerance, dEpMv + tolerance);
        // Where dEp carries the kinetics (psi <= 1, dEp >= 84 mV), our working curve reads the table's psi back.
        if (psi <= 1) Assert.InRange(KineticWorkingCurve.PsiFromPeakSeparation(dEpMv / 1e3) / psi, 0.85, 1.15);
    }

    [Theory]
    [InlineData(0.001, 1.20, 1.90, 0.003)]
    [InlineData(0.001, 1.25, 1.90, 0.003)]
    [InlineData(0.001, 1.10, 2.05, 0.003)]
    [InlineData(0.002, 1.20, 1.90, 0.01)]
    [InlineData(0.002, 1.30, 2.00, 0.01)]
    public void Randles_Sevcik_D_of_an_exact_reversible_CV_is_right_and_does_not_move_with_the_window(double stepV, double startV, double vertexV, double tolerance)
    {
        var result = PixelAnalysis.Analyze(Reversible(startV, vertexV, stepV), Lto);
        output.WriteLine($"step {stepV * 1e3} mV, {startV}-{vertexV} V: d_rs {result.DRsCm2PerS:0.0000e0} ({result.DRsCm2PerS / D - 1:P2}), d {result.DCm2PerS:0.0000e0} ({result.DCm2PerS / D - 1:P2}) {result.Method} flags {result.FlagText} info '{result.InfoText}'");
        Assert.InRange(result.DRsCm2PerS / D, 1 - tolerance, 1 + tolerance);
        Assert.InRange(result.DCm2PerS / D, 1 - 0.01, 1 + 0.01);
        Assert.Equal(5, result.RatesUsed);
        Assert.Equal("ok", result.FlagText);
        Assert.Equal("", result.RatesDropped);
    }

    // A quasi-reversible macroelectrode couple with a known uncompensated resistance: at 0.5 V/s R_u ip is about 35 mV,
    // at 0.02 V/s 7 mV, while the kinetic shift grows with ln v.
    private const double MacroD = 7e-6, MacroC = 1e-6, MacroArea = 0.07, MacroK0 = 0.01, MacroE0 = 0.1, MacroRu = 1000;
    private static readonly double[] MacroRates = [0.02, 0.05, 0.1, 0.2, 0.5];

    private static List<CvCurve> WithResistance(double ruOhm) =>
        MacroRates.Select(v =>
        {
            var (e, i) = IntegralEquationCv.Cycle(0.5, -0.4, 0.002, v, MacroE0, MacroD, MacroArea, MacroC, MacroK0, 0.5, substeps: 4, ruOhm: ruOhm);
            return new CvCurve(v, e, i);
        }).ToList();

    [Fact]
    public void Given_R_u_the_model_returns_the_true_D_and_k0_of_an_exact_CV_with_iR_drop()
    {
        var result = PixelAnalysis.Analyze(WithResistance(MacroRu), new AnalysisSettings { AreaCm2 = MacroArea, ConcentrationMolCm3 = MacroC, UncompensatedResistanceOhm = MacroRu });
        Report("exact CV, R_u 1000 ohm given", result);
        Assert.Equal(DiffusionMethods.SemiIntegralFit, result.Method);
        Assert.InRange(result.DCm2PerS / MacroD, 0.99, 1.01);
        Assert.InRange(result.K0CmPerS / MacroK0, 0.9, 1.1);
        Assert.InRange(result.Alpha, 0.45, 0.55);
        Assert.Equal(MacroRu, result.UncompensatedResistanceOhm);
        Assert.Equal("ok", result.FlagText);
    }

    [Fact]
    public void Not_given_R_u_is_fitted_with_one_value_for_all_rates_and_D_comes_out_right()
    {
        var result = PixelAnalysis.Analyze(WithResistance(MacroRu), new AnalysisSettings { AreaCm2 = MacroArea, ConcentrationMolCm3 = MacroC });
        Report("exact CV, R_u 1000 ohm fitted", result);
        Assert.Equal(DiffusionMethods.SemiIntegralFit, result.Method);
        Assert.InRange(result.DCm2PerS / MacroD, 0.98, 1.02);
        Assert.InRange(result.UncompensatedResistanceOhm / MacroRu, 0.9, 1.1);
        Assert.InRange(result.K0CmPerS / MacroK0, 0.85, 1.15);
        Assert.Equal(MacroRates, result.ModelRatesVPerS);
        Assert.Equal("ok", result.FlagText);
    }

    internal const string RealCvDirectory = "/work/shared/data/real-cv";

    /// <summary>One real file (all its rates, pixel 0,0): the long CSV format of the README there.</summary>
    internal static List<CvCurve> ReadRealSet(string file)
    {
        var path = Path.Combine(RealCvDirectory, file);
        var byRate = new SortedDictionary<double, (List<double> E, List<double> I)>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            if (line.Length == 0) continue;
            var f = line.Split(',');
            double rate = double.Parse(f[2], CultureInfo.InvariantCulture);
            if (!byRate.TryGetValue(rate, out var curve)) byRate[rate] = curve = ([], []);
            curve.E.Add(double.Parse(f[3], CultureInfo.InvariantCulture));
            curve.I.Add(double.Parse(f[4], CultureInfo.InvariantCulture));
        }
        return byRate.Select(r => new CvCurve(r.Key, r.Value.E.ToArray(), r.Value.I.ToArray())).ToList();
    }

    [Theory]
    [InlineData("ruhex_gc_freesim.csv", 0.0706858, 1.0e-6, 7.6e-6, 9.2e-6)]
    [InlineData("ferricyanide_gc3mm_palmsens.csv", 0.0706, 4.0e-6, 6.5e-6, 8.4e-6)]
    [InlineData("ferricyanide_gc_chi1100b_d3tales.csv", 0.0707, 1.0e-5, 6.5e-6, 8.4e-6)]
    public void Real_CVs_from_other_labs_give_the_literature_D(string file, double areaCm2, double concentration, double low, double high)
    {
        var result = PixelAnalysis.Analyze(ReadRealSet(file), new AnalysisSettings { AreaCm2 = areaCm2, ConcentrationMolCm3 = concentration });
        Report(file, result);
        Assert.InRange(result.DCm2PerS, low, high);
        Assert.False(result.Flags.HasFlag(PixelFlags.SplitWave), "a single couple is not a split wave");
        Assert.Equal("ok", result.FlagText);
    }

    [Fact]
    public void The_ferro_ferri_stress_set_is_right_or_flagged_never_ok_and_wrong()
    {
        var result = PixelAnalysis.Analyze(ReadRealSet("ferroferri_gc5mm_unm_cbe477.csv"), new AnalysisSettings { AreaCm2 = 0.19635, ConcentrationMolCm3 = 1e-5 });
        Report("ferroferri_gc5mm_unm_cbe477.csv", result);
        if (!result.HasWarning) Assert.InRange(result.DCm2PerS, 5e-6, 8.5e-6);
    }

    private void Report(string file, PixelResult r) =>
        output.WriteLine(FormattableString.Invariant(
            $"{file}: d_rs {r.DRsCm2PerS:0.000e0} d {r.DCm2PerS:0.000e0} ({r.Method}) k0 {r.K0CmPerS:0.00e0} alpha {r.Alpha:0.000} R_u {r.UncompensatedResistanceOhm:0.0} ohm model rates {string.Join(" ", r.ModelRatesVPerS)} C_dl {r.DoubleLayerF:0.00e0} flags {r.FlagText} info '{r.InfoText}' rates {string.Join(" ", r.RatesUsedVPerS)} dropped '{r.RatesDropped}'"));
}
