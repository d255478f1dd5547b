using Seccm.Electrochemistry.Samples;
using Seccm.Electrochemistry.Simulation;

namespace Seccm.Electrochemistry.Tests.Simulation;

public class ChargeDischargeTests
{
    // LTO film under a 5 um pipette (as in the published charge/discharge), 250 nm deep, with a two-phase isotherm.
    private static Electrode LtoFilm(double interactionG = 1.8) => new(
        [new RedoxCouple(1.55, 2e-5, 0.5, 2.47e-11, 0.0227, InteractionG: interactionG)],
        AreaCm2: Math.PI * Math.Pow(2.5e-4, 2), FilmThicknessCm: 250e-7, DoubleLayerF: 20e-6 * Math.PI * Math.Pow(2.5e-4, 2));

    private static GalvanostaticProtocol OneCycleIn(double seconds, Electrode film) =>
        new(2 * ChargeDischargeSimulator.FilmCapacityC(film) / seconds, 1.0, 2.1, seconds / 4000);

    [Fact]
    public void Slow_cycle_of_about_1600_s_delivers_the_film_capacity_nFCV_both_ways()
    {
        var film = LtoFilm();
        double capacity = ChargeDischargeSimulator.FilmCapacityC(film);
        Assert.Equal(96485.33212 * 0.0227 * Math.PI * Math.Pow(2.5e-4, 2) * 250e-7, capacity, capacity * 1e-12);
        var result = ChargeDischargeSimulator.Run(film, OneCycleIn(1600, film));
        Assert.InRange(result.HalfCycleChargeC[0] / capacity, 0.97, 1.02);
        Assert.InRange(result.HalfCycleChargeC[1] / capacity, 0.97, 1.02);
        Assert.InRange(result.TimeS[^1], 1500, 1650);
    }

    [Fact]
    public void Two_phase_isotherm_gives_a_flat_plateau_at_1_55_V()
    {
        double Spread(double g)
        {
            var film = LtoFilm(g);
            var r = ChargeDischargeSimulator.Run(film, OneCycleIn(1600, film));
            double q = ChargeDischargeSimulator.FilmCapacityC(film);
            double i = r.CurrentA[1];
            double At(double fraction) => r.PotentialV[Array.FindIndex(r.TimeS, t => i * t >= fraction * q)];
            Assert.InRange(At(0.5), 1.53, 1.58);
            return At(0.75) - At(0.25);
        }
        double plateau = Spread(1.8), nernst = Spread(0);
        Assert.True(plateau < 0.4 * nernst, $"plateau {plateau * 1000:F1} mV vs Nernst {nernst * 1000:F1} mV");
        Assert.InRange(plateau, 0, 0.025);
    }

    [Fact]
    public void Capacity_falls_with_rate_as_diffusion_in_the_film_limits_it()
    {
        var film = LtoFilm();
        double capacity = ChargeDischargeSimulator.FilmCapacityC(film);
        double[] seconds = [1600, 160, 16];
        var fractions = seconds.Select(s => ChargeDischargeSimulator.Run(film, OneCycleIn(s, film)).HalfCycleChargeC[0] / capacity).ToArray();
        Assert.True(fractions[0] > fractions[1] && fractions[1] > fractions[2], string.Join(", ", fractions));
        Assert.True(fractions[2] < 0.8, $"fast charge still gave {fractions[2]:P0}");
    }

    [Fact]
    public void LTO_sample_under_a_5_um_pipette_discharged_at_twice_the_charge_current_delivers_clearly_less()
    {
        // The paper's Fig. 2d: ~1600 s, the fast discharge gives less than the charge. 750 nm of LTO at D ~2.5e-11
        // (L^2/D ~230 s) cannot keep up with a ~500 s discharge: diffusion in the film, not a fudge factor.
        var film = SampleCatalog.Create("lto", 1).ElectrodeAt(2.5, 2.5, new PipetteSettings(RadiusNm: 2500));
        double capacity = ChargeDischargeSimulator.FilmCapacityC(film);
        var result = ChargeDischargeSimulator.Run(film, new GalvanostaticProtocol(27e-12, 1.0, 2.1, 1, DischargeCurrentA: 54e-12, MaxHalfCycleS: 3600));
        double charge = result.HalfCycleChargeC[0], discharge = result.HalfCycleChargeC[1];
        Assert.InRange(charge / capacity, 0.9, 0.97);
        Assert.InRange(discharge / charge, 0.8, 0.92);
        Assert.InRange(result.TimeS[^1], 1450, 1750);
    }

    [Fact]
    public void Bad_protocol_is_rejected_with_the_field_named()
    {
        var ex = Assert.Throws<ArgumentException>(() => ChargeDischargeSimulator.Run(LtoFilm(), new GalvanostaticProtocol(1e-11, 2.1, 1.0, 1)));
        Assert.Equal("UpperCutoffV", ex.ParamName);
    }
}
