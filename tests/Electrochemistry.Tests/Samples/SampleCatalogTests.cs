using Seccm.Electrochemistry.Analysis;
using Seccm.Electrochemistry.Samples;
using Seccm.Electrochemistry.Simulation;

namespace Seccm.Electrochemistry.Tests.Samples;

public class SampleCatalogTests
{
    [Theory]
    [InlineData("lto")]
    [InlineData("LCO")]
    [InlineData("Lfp")]
    [InlineData("substrate")]
    public void Catalog_names_are_case_insensitive(string name) =>
        Assert.Equal(name.ToLowerInvariant(), SampleCatalog.Create(name, 3).Name);

    [Fact]
    public void Unknown_sample_lists_the_valid_names()
    {
        var ex = Assert.Throws<ArgumentException>(() => SampleCatalog.Create("nmc"));
        Assert.Contains("nmc", ex.Message);
        foreach (var n in SampleCatalog.Names) Assert.Contains(n, ex.Message);
    }

    [Fact]
    public void Pipette_of_55_nm_wets_9_50e_11_cm2() =>
        Assert.Equal(9.50e-11, SampleDefaults.PipetteAreaCm2, 0.01e-11);

    [Fact]
    public void LTO_grains_differ_in_D_by_facet_family_with_the_published_mean_and_the_same_seed_repeats()
    {
        var a = SampleCatalog.Create("lto", 5);
        var b = SampleCatalog.Create("lto", 5);
        var ds = new List<double>();
        for (double x = 0.05; x < 5; x += 0.1)
            for (double y = 0.05; y < 5; y += 0.1)
            {
                ds.Add(a.TrueDCm2PerS(x, y));
                Assert.Equal(a.TrueDCm2PerS(x, y), b.TrueDCm2PerS(x, y));
                Assert.Equal(a.HeightNm(x, y), b.HeightNm(x, y));
                Assert.InRange(a.HeightNm(x, y), 5, 100);
            }
        Assert.InRange(ds.Min() / SampleDefaults.LtoMeanDCm2PerS, 0.5, 0.7);
        Assert.InRange(ds.Max() / SampleDefaults.LtoMeanDCm2PerS, 1.3, 1.5);
        Assert.True(ds.Distinct().Count() >= 10);
        Assert.NotEqual(ds, Enumerable.Range(0, 1).SelectMany(_ => SampleGrid(SampleCatalog.Create("lto", 6))).ToList());
    }

    private static IEnumerable<double> SampleGrid(Sample s)
    {
        for (double x = 0.05; x < 5; x += 0.1)
            for (double y = 0.05; y < 5; y += 0.1)
                yield return s.TrueDCm2PerS(x, y);
    }

    private static CvPeaks Cv(Sample sample, double v, double x = 1, double y = 1, PipetteSettings? pipette = null, AnalysisSettings? settings = null)
    {
        var (start, vertex) = sample.DefaultWindowV;
        var sim = CvSimulator.Cv(sample.ElectrodeAt(x, y, pipette ?? new PipetteSettings()), new CvProtocol(start, vertex, start, 0.001, v));
        return CvPeakAnalysis.Analyze(new CvCurve(v, sim.PotentialV, sim.CurrentA), settings ?? new AnalysisSettings());
    }

    [Fact]
    public void LTO_peak_at_1_25_V_per_s_is_a_few_pA_as_published()
    {
        // Randles-Sevcik for the published numbers gives 3.2 pA; the fitted quasi-reversible kinetics lower
        // a mean-D grain's peak by the Butler-Volmer factor (about 0.88 here).
        double rs = 0.4463 * PhysicalConstants.FaradayCPerMol * SampleDefaults.PipetteAreaCm2 * SampleDefaults.LtoConcentrationMolCm3
            * Math.Sqrt(PhysicalConstants.FOverRtPerV(1, 298.15) * 1.25 * SampleDefaults.LtoMeanDCm2PerS);
        Assert.InRange(rs, 3.15e-12, 3.25e-12);
        var couple = new RedoxCouple(1.55, LtoSample.K0CmPerS, 0.5, SampleDefaults.LtoMeanDCm2PerS, SampleDefaults.LtoConcentrationMolCm3);
        var sim = CvSimulator.Cv(new Electrode([couple], SampleDefaults.PipetteAreaCm2, LtoSample.FilmCm), new CvProtocol(1.0, 2.1, 1.0, 0.001, 1.25));
        double ip = sim.FaradaicCurrentA.Max();
        Assert.InRange(ip, 2.7e-12, 3.3e-12);
    }

    [Fact]
    public void LTO_peak_separation_grows_with_rate_near_the_published_57_74_136_mV()
    {
        // One Butler-Volmer k0 cannot grow from 74 to 136 mV over a factor 5 in rate (that needs psi to drop
        // ~7x, not sqrt(5)); at 55 nm the iR drop is negligible and the kinetics give about 65, 80, 105 mV.
        var lto = SampleCatalog.Create("lto", 1);
        double d10 = Cv(lto, 0.01).PeakSeparationV * 1000, d100 = Cv(lto, 0.1).PeakSeparationV * 1000, d500 = Cv(lto, 0.5).PeakSeparationV * 1000;
        Assert.InRange(d10, 52, 68);
        Assert.InRange(d100, 66, 84);
        Assert.InRange(d500, 95, 140);
    }

    [Fact]
    public void LCO_peak_separation_is_near_155_426_736_mV()
    {
        var lco = SampleCatalog.Create("lco");
        Assert.InRange(Cv(lco, 0.01).PeakSeparationV * 1000, 155 * 0.9, 155 * 1.1);
        Assert.InRange(Cv(lco, 0.1).PeakSeparationV * 1000, 426 * 0.88, 426 * 1.12);
        Assert.InRange(Cv(lco, 0.5).PeakSeparationV * 1000, 736 * 0.9, 736 * 1.1);
    }

    [Fact]
    public void Bare_substrate_and_LFP_surroundings_carry_no_Faradaic_current()
    {
        var substrate = SampleCatalog.Create("substrate");
        var sim = CvSimulator.Cv(substrate.ElectrodeAt(1, 1, new PipetteSettings()), new CvProtocol(1.0, 2.1, 1.0, 0.001, 1));
        Assert.All(sim.FaradaicCurrentA, i => Assert.Equal(0, i));
        var lfp = SampleCatalog.Create("lfp");
        Assert.Empty(lfp.MaterialAt(0.5, 0.5).Couples);
        Assert.Equal(0, lfp.HeightNm(0.5, 0.5));
        Assert.NotEmpty(lfp.MaterialAt(7.5, 7.5).Couples);
        Assert.InRange(lfp.HeightNm(7.5, 7.5), 1000, 2000);
        Assert.True(double.IsNaN(lfp.TrueDCm2PerS(0.5, 0.5)));
    }

    [Theory]
    [InlineData("substrate", 1.0, 1.0)]
    [InlineData("lfp", 0.5, 0.5)]
    [InlineData("lfp", 7.5, 7.5)]
    public void A_55_nm_contact_at_4_2_V_reads_the_electrolyte_oxidation_well_above_the_3_pA_contact_threshold(string name, double x, double y)
    {
        var sample = SampleCatalog.Create(name);
        var pipette = new PipetteSettings(NoiseRmsA: 0.2e-12);
        var hold = CvSimulator.Hold(sample.ElectrodeAt(x, y, pipette), new HoldProtocol(4.2, 4.2, 0.05, 0.001));
        // Rest = hold: no step, so what remains is the steady background (the LFP particle adds its own transient on a real contact).
        Assert.InRange(hold.CurrentA.Skip(1).Min(), 3e-12 + 5 * 0.2e-12, 50e-12);
    }

    [Fact]
    public void Electrolyte_background_is_negligible_inside_the_stability_window_and_cathodic_below_1_V()
    {
        var b = ElectrolyteBackground.Carbonate;
        double area = SampleDefaults.PipetteAreaCm2;
        Assert.InRange(b.CurrentA(4.2, area), 5e-12, 15e-12);
        Assert.InRange(Math.Abs(b.CurrentA(3.5, area)), 0, 1e-15);
        Assert.InRange(Math.Abs(b.CurrentA(1.5, area)), 0, 1e-15);
        Assert.InRange(b.CurrentA(0.8, area), -15e-12, -1e-12);
        // A decade per Tafel slope.
        Assert.Equal(10, b.CurrentA(4.2 + b.TafelSlopeVPerDecade, area) / b.CurrentA(4.2, area), 1e-6);
    }

    [Fact]
    public void LTO_and_LCO_carry_no_electrolyte_background_so_their_published_numbers_are_untouched()
    {
        Assert.Null(SampleCatalog.Create("lto", 1).ElectrodeAt(2.5, 2.5, new PipetteSettings()).BackgroundA);
        Assert.Null(SampleCatalog.Create("lco").ElectrodeAt(2.5, 2.5, new PipetteSettings()).BackgroundA);
    }

    [Theory]
    [InlineData(0.001, true)]
    [InlineData(0.002, true)]
    [InlineData(0.005, true)]
    [InlineData(0.01, false)]
    [InlineData(0.05, false)]
    [InlineData(0.1, false)]
    [InlineData(0.5, false)]
    [InlineData(1, false)]
    public void LFP_wave_splits_below_10_mV_per_s_through_the_reproduction_pipette(double rateVPerS, bool split)
    {
        var lfp = SampleCatalog.Create("lfp");
        var pipette = new PipetteSettings(RadiusNm: LfpSample.RateSeriesPipetteRadiusNm, NoiseRmsA: 0.2e-12);
        var sim = CvSimulator.Cv(lfp.ElectrodeAt(7.5, 7.5, pipette), new CvProtocol(3.0, 3.9, 3.0, 0.001, rateVPerS));
        var peaks = CvPeakAnalysis.Analyze(new CvCurve(rateVPerS, sim.PotentialV, sim.CurrentA), new AnalysisSettings { RadiusNm = LfpSample.RateSeriesPipetteRadiusNm });
        Assert.Equal(split, peaks.SplitWave);
    }

    [Fact]
    public void Pipette_series_resistance_is_3_3e8_ohm_at_55_nm_and_falls_as_one_over_the_radius_unless_given()
    {
        Assert.Equal(3.3e8, new PipetteSettings().EffectiveUncompensatedOhm, 1e-3);
        Assert.Equal(3.3e7, new PipetteSettings(RadiusNm: 550).EffectiveUncompensatedOhm, 1e-3);
        Assert.Equal(3e8, new PipetteSettings(RadiusNm: 550, UncompensatedOhm: 3e8).EffectiveUncompensatedOhm);
    }

    [Fact]
    public void Fitted_k0_and_R_u_give_LTO_and_LCO_peak_separations_through_the_slow_CV_contact_within_18_percent_of_the_paper()
    {
        // The paper's Fig. 2a/2b numbers (57/74/136 and 155/426/736 mV). iR ~ sqrt(v) cannot rise 1.84x from 100 to
        // 500 mV/s as LTO's do, so ~17% is the best any (k0, R_u) reaches there; LCO comes within 13%.
        var pipette = new PipetteSettings(RadiusNm: SampleDefaults.SlowCvPipetteRadiusNm);
        var lto = SampleCatalog.Create("lto", 1);
        var lco = SampleCatalog.Create("lco");
        double[] rates = [0.01, 0.1, 0.5];
        double[] ltoPaper = [57, 74, 136], lcoPaper = [155, 426, 736];
        var settings = new AnalysisSettings { RadiusNm = SampleDefaults.SlowCvPipetteRadiusNm };
        for (int k = 0; k < 3; k++)
        {
            double ltoMv = Cv(lto, rates[k], 2.5, 2.5, pipette, settings).PeakSeparationV * 1000;
            double lcoMv = Cv(lco, rates[k], 2.5, 2.5, pipette, settings).PeakSeparationV * 1000;
            Assert.InRange(ltoMv / ltoPaper[k], 1 / 1.18, 1.18);
            Assert.InRange(lcoMv / lcoPaper[k], 1 / 1.13, 1.13);
        }
    }

    [Fact]
    public void LTO_peak_separation_at_10_mV_per_s_through_the_slow_CV_pipette_is_near_57_mV_with_0_2_pA_noise()
    {
        var lto = SampleCatalog.Create("lto", 1);
        var pipette = new PipetteSettings(RadiusNm: LtoSample.SlowCvPipetteRadiusNm, NoiseRmsA: 0.2e-12);
        var sim = CvSimulator.Cv(lto.ElectrodeAt(2.5, 2.5, pipette), new CvProtocol(1.2, 1.9, 1.2, 0.001, 0.01));
        var peaks = CvPeakAnalysis.Analyze(new CvCurve(0.01, sim.PotentialV, sim.CurrentA), new AnalysisSettings { RadiusNm = LtoSample.SlowCvPipetteRadiusNm });
        Assert.InRange(peaks.PeakSeparationV * 1000, 52, 66);
    }
}
