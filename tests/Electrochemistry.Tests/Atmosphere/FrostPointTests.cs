using CsCheck;
using Seccm.Electrochemistry.Atmosphere;

namespace Seccm.Electrochemistry.Tests.Atmosphere;

public sealed class FrostPointTests
{
    [Theory]
    [InlineData(-90, 0.095)]
    [InlineData(-80, 0.54)]
    [InlineData(-76, 1.03)]
    [InlineData(-70, 2.58)]
    [InlineData(-60, 10.7)]
    [InlineData(-50, 38.8)]
    [InlineData(-40, 127)]
    public void Frost_point_gives_the_ppmv_of_the_physics_notes_within_two_percent(double frostPointC, double expectedPpmv)
    {
        var ppmv = FrostPoint.PpmvFromFrostPointC(frostPointC);
        Assert.InRange(ppmv / expectedPpmv, 0.98, 1.02);
    }

    [Fact]
    public void Lower_total_pressure_means_more_ppmv_for_the_same_frost_point()
    {
        var atSea = FrostPoint.PpmvFromFrostPointC(-70);
        Assert.Equal(2 * atSea, FrostPoint.PpmvFromFrostPointC(-70, FrostPoint.StandardPressureHPa / 2), 9);
    }

    [Fact]
    public void Ppmv_to_frost_point_round_trips()
    {
        Gen.Double[-100, -5].Select(Gen.Double[500, 1500]).Sample((frostPointC, pressureHPa) =>
        {
            var ppmv = FrostPoint.PpmvFromFrostPointC(frostPointC, pressureHPa);
            // A tolerance, not "6 decimal places": rounding both sides fails when they straddle a rounding boundary
            // (-31.4613885001 vs -31.4613884999, 2.6e-10 apart, seen in CI).
            Assert.Equal(frostPointC, FrostPoint.FrostPointCFromPpmv(ppmv, pressureHPa), 1e-6);
        });
    }

    [Fact]
    public void The_inverse_hits_the_table_values()
    {
        Assert.InRange(FrostPoint.FrostPointCFromPpmv(2.58), -70.2, -69.8);
        Assert.InRange(FrostPoint.FrostPointCFromPpmv(10.7), -60.2, -59.8);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    [InlineData(1e9)]
    public void Impossible_water_contents_are_refused_with_the_value_in_the_message(double ppmv)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => FrostPoint.FrostPointCFromPpmv(ppmv));
        Assert.Equal("ppmv", ex.ParamName);
    }

    [Fact]
    public void Non_positive_pressure_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FrostPoint.PpmvFromFrostPointC(-70, 0));
    }
}
