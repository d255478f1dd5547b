using CsCheck;
using Seccm.Potentiostat.Drivers.MethodScript;

namespace Seccm.Potentiostat.Tests.Drivers.MethodScript;

public sealed class MethodScriptPackageTests
{
    [Fact]
    public void The_protocol_example_decodes_to_the_documented_numbers()
    {
        var values = MethodScriptPackage.Parse("Pda7F85F3Fu;ba48D503Dp,10,288");

        Assert.Equal(2, values.Length);
        Assert.Equal("da", values[0].Type);
        Assert.Equal(-0.499905, values[0].Value, 12);
        Assert.Equal("ba", values[1].Type);
        Assert.Equal(-57.847747e-6, values[1].Value, 15);
        Assert.Equal(-57847747e-12, values[1].Value, 15);
        Assert.Equal(0, values[1].Status);
        // Metadata "288": kind 2 (current range), code 0x88 as the device writes it.
        Assert.Equal(0x88, values[1].CurrentRangeCode);
        Assert.Null(values[0].CurrentRangeCode);
    }

    [Theory]
    [InlineData('a', 1e-18)]
    [InlineData('f', 1e-15)]
    [InlineData('p', 1e-12)]
    [InlineData('n', 1e-9)]
    [InlineData('u', 1e-6)]
    [InlineData('m', 1e-3)]
    [InlineData(' ', 1)]
    [InlineData('i', 1)]
    [InlineData('k', 1e3)]
    [InlineData('M', 1e6)]
    [InlineData('G', 1e9)]
    [InlineData('T', 1e12)]
    [InlineData('P', 1e15)]
    [InlineData('E', 1e18)]
    public void Every_si_prefix_scales_the_value(char prefix, double factor)
    {
        // 0x8000000 + 1234 = 0x80004D2
        var value = MethodScriptPackage.Parse($"Pba80004D2{prefix}")[0].Value;
        Assert.Equal(1234 * factor, value, 1234 * factor * 1e-12);
        var negative = MethodScriptPackage.Parse($"Pda7FFFB2E{prefix}")[0].Value; // 0x8000000 - 1234
        Assert.Equal(-1234 * factor, negative, 1234 * factor * 1e-12);
    }

    [Fact]
    public void Status_flags_read_overload_and_underload()
    {
        var v = MethodScriptPackage.Parse("Pba8000001n,12,283")[0];
        Assert.True(v.Overload);
        Assert.False(v.Underload);
        Assert.Equal(0x83, v.CurrentRangeCode);
    }

    [Theory]
    [InlineData("", "must start with 'P'")]
    [InlineData("Xda7F85F3Fu", "must start with 'P'")]
    [InlineData("Pda7F85F3F", "must be 10 characters")]
    [InlineData("PdaZZZZZZZu", "7 hex digits")]
    [InlineData("Pda7F85F3Fx", "not an SI prefix")]
    [InlineData("PDA7F85F3Fu", "two lower-case letters")]
    [InlineData("Pda7F85F3Fu,1Z", "metadata")]
    public void Malformed_packages_say_what_is_wrong(string line, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => MethodScriptPackage.Parse(line));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_garbage_gives_a_format_error_and_never_another_exception()
    {
        var chars = Gen.Char[' ', '~'];
        var garbage = Gen.OneOf(
            chars.Array[0, 60].Select(c => new string(c)),
            chars.Array[0, 40].Select(c => "P" + new string(c)),
            // Near misses: a valid package with one character replaced.
            Gen.Select(Gen.Int[0, 28], chars, (i, c) =>
            {
                var valid = "Pda7F85F3Fu;ba48D503Dp,10,288".ToCharArray();
                valid[i] = c;
                return new string(valid);
            }));
        garbage.Sample(line =>
        {
            try
            {
                var values = MethodScriptPackage.Parse(line);
                Assert.All(values, v => Assert.True(double.IsFinite(v.Value)));
            }
            catch (FormatException ex)
            {
                Assert.False(string.IsNullOrWhiteSpace(ex.Message));
            }
        }, iter: 5000);
    }
}
