using Seccm.Potentiostat.Drivers.MethodScript;

namespace Seccm.Potentiostat.Tests.Drivers.MethodScript;

public sealed class MethodScriptValuesTests
{
    [Theory]
    [InlineData(0.5, "500m")]
    [InlineData(-0.5, "-500m")]
    [InlineData(0.01, "10m")]
    [InlineData(-1.0, "-1")]
    [InlineData(1.55, "1550m")]
    [InlineData(0.0123, "12300u")]
    [InlineData(100e-9, "100n")]
    [InlineData(1e-9, "1n")]
    [InlineData(1.25, "1250m")]
    [InlineData(1e6, "1M")]
    [InlineData(0.0, "0")]
    [InlineData(2.5e-3, "2500u")]
    public void Script_numbers_are_integers_with_the_largest_exact_prefix(double value, string expected) =>
        Assert.Equal(expected, MethodScriptValues.Format(value));

    [Fact]
    public void A_non_finite_number_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MethodScriptValues.Format(double.NaN));
}
