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
    [InlineData("1.0825064128045634E-12")]
    [InlineData("2.0010000000000003")]
    [InlineData("-3.954210872243581E-14")]
    [InlineData("9007199254740993e-5")]
    [InlineData("9007199254740993e5")]
    [InlineData("2.2250738585072014E-308")]
    [InlineData("2.2250738585072011E-308")]
    [InlineData("4.9406564584124654E-324")]
    [InlineData("1.7976931348623157E+308")]
    [InlineData("1.7976931348623159E+308")]
    [InlineData("9999999999999999999e-342")]
    [InlineData("1e-343")]
    [InlineData("1e309")]
    [InlineData("7.2057594037927933e16")]
    [InlineData("1.00000000000000011102230246251565404236316680908203125")]
    public void Agrees_with_double_parse(string text) => SameAsBcl(text);

    [Theory]
    [InlineData("1.0825064128045634E-12")]
    [InlineData("-3.954210872243581E-14")]
    [InlineData("2.0010000000000003")]
    [InlineData("1.7976931348623157E+308")]
    public void What_the_R_format_writes_takes_the_fast_path(string text)
    {
        // Long significands and exponents beyond +-22 (simulated currents) were double.TryParse's before Eisel-Lemire.
        Assert.True(FastDouble.TryParseFast(Encoding.UTF8.GetBytes(text), out var fast));
        Assert.Equal(BitConverter.DoubleToInt64Bits(double.Parse(text, CultureInfo.InvariantCulture)), BitConverter.DoubleToInt64Bits(fast));
    }

    [Fact]
    public void Agrees_with_double_parse_on_every_format_of_random_doubles()
    {
        string[] formats = ["R", "G3", "G6", "G9", "G10", "G12", "G15", "E4", "F3", "F8"];
        var format = Gen.Int[0, formats.Length - 1].Select(i => formats[i]);
        Gen.Select(Gen.Double, format).Sample((d, f) => SameAsBcl(d.ToString(f, CultureInfo.InvariantCulture)), iter: 20000);
        Gen.Select(Gen.Double[-1e-9, 1e-9], format).Sample((d, f) => SameAsBcl(d.ToString(f, CultureInfo.InvariantCulture)), iter: 20000);
        // Every bit pattern (all exponents, subnormals included) in the shortest round-trip text and in 17 digits.
        Gen.ULong.Select(BitConverter.UInt64BitsToDouble).Where(double.IsFinite)
            .Sample(d => { SameAsBcl(d.ToString("R", CultureInfo.InvariantCulture)); SameAsBcl(d.ToString("E16", CultureInfo.InvariantCulture)); }, iter: 50000);
        // Random digit strings of up to 19 digits with any exponent: the rounding cases a formatter never writes.
        Gen.Select(Gen.ULong[1, 9_999_999_999_999_999_999], Gen.Int[-360, 330])
            .Sample((w, q) => SameAsBcl($"{w}e{q}"), iter: 50000);
    }

    [Fact]
    public void Agrees_with_double_parse_on_random_text() =>
        Gen.String["0123456789.eE+- "].Sample(SameAsBcl, iter: 20000);

    /// <summary>
    /// The prefix parse either declines or takes a leading run that double.Parse reads to the same bits; the reader then
    /// checks what follows it. Oracle: double.TryParse on exactly the bytes taken.
    /// </summary>
    private static void PrefixSameAsBcl(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (!FastDouble.TryParsePrefix(bytes, out var fast, out var consumed))
        {
            return;
        }
        Assert.InRange(consumed, 1, bytes.Length);
        Assert.True(double.TryParse(bytes.AsSpan(0, consumed), NumberStyles.Float, CultureInfo.InvariantCulture, out var bcl), text);
        Assert.Equal(BitConverter.DoubleToInt64Bits(bcl), BitConverter.DoubleToInt64Bits(fast));
        // It stops at a byte that cannot continue the number, so a field ends exactly where it stopped.
        if (consumed < bytes.Length)
        {
            Assert.False(char.IsAsciiDigit((char)bytes[consumed]), text);
        }
    }

    [Fact]
    public void Prefix_parse_agrees_with_double_parse_on_the_bytes_it_takes()
    {
        string[] formats = ["R", "G3", "G6", "G9", "G12", "G15", "E4", "E16", "F3", "F8"];
        string[] tails = ["", ",", ",1.5", ",x", "x", " ", "\r", "e", "E+", "."];
        var format = Gen.Int[0, formats.Length - 1].Select(i => formats[i]);
        var tail = Gen.Int[0, tails.Length - 1].Select(i => tails[i]);
        Gen.Select(Gen.Double, format, tail).Sample((d, f, t) => PrefixSameAsBcl(d.ToString(f, CultureInfo.InvariantCulture) + t), iter: 30000);
        Gen.Select(Gen.Double[-1e-9, 1e-9], format, tail).Sample((d, f, t) => PrefixSameAsBcl(d.ToString(f, CultureInfo.InvariantCulture) + t), iter: 30000);
        Gen.ULong.Select(BitConverter.UInt64BitsToDouble).Where(double.IsFinite)
            .Sample(d => PrefixSameAsBcl(d.ToString("R", CultureInfo.InvariantCulture) + ","), iter: 30000);
        Gen.String["0123456789.eE+-, "].Sample(PrefixSameAsBcl, iter: 30000);
    }

    [Theory]
    [InlineData("1.0825064128045634E-12,", 22)]
    [InlineData("-3.954210872243581E-14", 22)]
    [InlineData("2.0010000000000003,-1e-12", 18)]
    [InlineData("1,2", 1)]
    [InlineData("0.000123456789,", 14)]
    [InlineData("12345678901234567.5e-3,", 22)]
    public void What_the_R_format_writes_is_taken_whole_by_the_prefix_parse(string text, int length)
    {
        Assert.True(FastDouble.TryParsePrefix(Encoding.UTF8.GetBytes(text), out var value, out var consumed));
        Assert.Equal(length, consumed);
        Assert.Equal(BitConverter.DoubleToInt64Bits(double.Parse(text[..length], CultureInfo.InvariantCulture)), BitConverter.DoubleToInt64Bits(value));
    }

    [Theory]
    [InlineData("12345678901234567890.5")] // 21 digits: left to TryParse
    [InlineData("1e12345")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("e5")]
    [InlineData("1e")]
    [InlineData("1e+,")]
    [InlineData(" 1")]
    public void What_the_prefix_parse_cannot_decide_is_declined(string text) =>
        Assert.False(FastDouble.TryParsePrefix(Encoding.UTF8.GetBytes(text), out _, out _));
}
