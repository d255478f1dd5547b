using System.Globalization;

namespace Seccm.Maps.LongCsv;

/// <summary>
/// Parses invariant-culture decimal numbers from UTF-8 with Clinger's fast path: when the significand is at most 2^53
/// and the decimal exponent is within +-22, significand and power of ten are both exact doubles and one IEEE
/// multiplication or division gives the correctly rounded result, the same bits as double.Parse. Anything
/// else (long significands, huge exponents, odd syntax) goes to double.TryParse, so results never differ from it.
/// </summary>
internal static class FastDouble
{
    private const ulong MaxExactSignificand = 1UL << 53;

    private static readonly double[] PowersOf10 =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    public static bool TryParse(ReadOnlySpan<byte> text, out double value)
    {
        if (TryParseFast(text, out value))
        {
            return true;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    internal static bool TryParseFast(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        var i = 0;
        var negative = false;
        if (i < s.Length && (s[i] == (byte)'-' || s[i] == (byte)'+'))
        {
            negative = s[i] == (byte)'-';
            i++;
        }
        ulong significand = 0;
        var digits = 0;
        var significantDigits = 0;
        var fractionDigits = 0;
        var seenPoint = false;
        for (; i < s.Length; i++)
        {
            var c = s[i];
            if ((uint)(c - '0') <= 9)
            {
                digits++;
                if (significand != 0 || c != '0')
                {
                    if (++significantDigits > 19)
                    {
                        return false;
                    }
                }
                significand = (significand * 10) + (uint)(c - '0');
                if (seenPoint)
                {
                    fractionDigits++;
                }
            }
            else if (c == (byte)'.' && !seenPoint)
            {
                seenPoint = true;
            }
            else
            {
                break;
            }
        }
        if (digits == 0)
        {
            return false;
        }
        var exponent = 0;
        if (i < s.Length && (s[i] == (byte)'e' || s[i] == (byte)'E'))
        {
            i++;
            var negativeExponent = false;
            if (i < s.Length && (s[i] == (byte)'-' || s[i] == (byte)'+'))
            {
                negativeExponent = s[i] == (byte)'-';
                i++;
            }
            var exponentDigits = 0;
            for (; i < s.Length && (uint)(s[i] - '0') <= 9; i++)
            {
                if (++exponentDigits > 4)
                {
                    return false;
                }
                exponent = (exponent * 10) + (s[i] - '0');
            }
            if (exponentDigits == 0)
            {
                return false;
            }
            if (negativeExponent)
            {
                exponent = -exponent;
            }
        }
        if (i != s.Length)
        {
            return false;
        }
        var exponent10 = exponent - fractionDigits;
        if (significand > MaxExactSignificand || exponent10 < -22 || exponent10 > 22)
        {
            return significand == 0 && ReturnZero(negative, out value);
        }
        double result = significand;
        result = exponent10 < 0 ? result / PowersOf10[-exponent10] : result * PowersOf10[exponent10];
        value = negative ? -result : result;
        return true;
    }

    private static bool ReturnZero(bool negative, out double value)
    {
        value = negative ? -0.0 : 0.0;
        return true;
    }
}
