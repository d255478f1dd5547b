using System.Globalization;
using System.Text;
using CsCheck;
using Seccm.Maps.LongCsv;

namespace Seccm.Maps.Tests.LongCsv;

public sealed class FastDoubleTests
{
    private static void SameAsBcl(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var bclOk = double.TryParse(bytes, NumberStyles.Float, CultureInfo.InvariantCulture, out var bcl);
        var ok = FastDouble.TryParse(bytes, out var fast);
        Assert.Equal(bclOk, ok);
        if (ok)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(bcl), BitConverter.DoubleToInt64Bits(fast));
        }
    }

    [Theory]
    [InlineData("1.3")]
    [InlineData("-0")]
    [InlineData("0e-400")]
    [InlineData("3.2E-12")]
    [InlineData("2.199337481e-12")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("+7")]
    [InlineData("1e22")]
    [InlineData("1e23")]
    [InlineData("9007199254740993")]
    [InlineData("0.1000000000000000055511151231257827")]
    [InlineData("1e")]
    [InlineData("e5")]
    [InlineData(".")]
    [InlineData("1.2.3")]
    [InlineData(" 1.5 ")]
    [InlineData("0x10")]
    public void Agrees_with_double_parse(string text) => SameAsBcl(text);

    [Fact]
    public void Agrees_with_double_parse_on_every_format_of_random_doubles()
    {
        string[] formats = ["R", "G3", "G6", "G9", "G10", "G12", "G15", "E4", "F3", "F8"];
        var format = Gen.Int[0, formats.Length - 1].Select(i => formats[i]);
        Gen.Select(Gen.Double, format).Sample((d, f) => SameAsBcl(d.ToString(f, CultureInfo.InvariantCulture)), iter: 20000);
        Gen.Select(Gen.Double[-1e-9, 1e-9], format).Sample((d, f) => SameAsBcl(d.ToString(f, CultureInfo.InvariantCulture)), iter: 20000);
    }

    [Fact]
    public void Agrees_with_double_parse_on_random_text() =>
        Gen.String["0123456789.eE+- "].Sample(SameAsBcl, iter: 20000);
}
