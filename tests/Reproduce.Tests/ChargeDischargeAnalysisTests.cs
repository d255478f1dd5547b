namespace Seccm.Host.Reproduce.Tests;

public class ChargeDischargeAnalysisTests
{
    private static (double[] T, double[] E, double[] I) Half(double currentA, double seconds, double plateauV, double intervalS = 1)
    {
        var n = (int)(seconds / intervalS);
        var t = Enumerable.Range(1, n).Select(k => k * intervalS).ToArray();
        // A flat plateau with a rise at the end (the cut-off), as a two-phase film gives.
        var e = t.Select(x => plateauV + (x > 0.9 * seconds ? Math.Sign(currentA) * 0.5 * (x - 0.9 * seconds) / seconds : 0)).ToArray();
        return (t, e, t.Select(_ => currentA).ToArray());
    }

    [Fact]
    public void Constant_current_halves_give_charge_uAh_per_area_efficiency_and_plateau()
    {
        var charge = Half(10e-12, 1000, 1.56);
        var discharge = Half(-20e-12, 450, 1.54);
        var area = Math.PI * Math.Pow(2.5e-4, 2);
        var cycle = Assert.Single(ChargeDischargeAnalysis.Analyze([charge, discharge], area));
        Assert.Equal(1e-8, cycle.ChargeC, 1e-20);
        Assert.Equal(9e-9, cycle.DischargeC, 1e-20);
        Assert.Equal(1e-8 / 3.6e-3, cycle.ChargeUAh, 1e-12);
        Assert.Equal(cycle.ChargeUAh / area, cycle.ChargeUAhPerCm2, 1e-9);
        Assert.Equal(0.9, cycle.CoulombicEfficiency, 1e-12);
        Assert.Equal(1.56, cycle.ChargePlateauV, 1e-12);
        Assert.Equal(1.54, cycle.DischargePlateauV, 1e-12);
        Assert.Equal(1000, cycle.ChargeS);
        var q = ChargeDischargeAnalysis.CapacityUAh(charge.T, charge.I);
        Assert.Equal(cycle.ChargeUAh, q[^1], 1e-12);
    }

    [Fact]
    public void A_charge_without_its_discharge_has_no_efficiency_and_bad_area_is_refused()
    {
        var cycle = Assert.Single(ChargeDischargeAnalysis.Analyze([Half(1e-11, 10, 1.5)], 1e-7));
        Assert.True(double.IsNaN(cycle.CoulombicEfficiency));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ChargeDischargeAnalysis.Analyze([Half(1e-11, 10, 1.5)], 0));
        Assert.Equal("areaCm2", ex.ParamName);
    }
}
