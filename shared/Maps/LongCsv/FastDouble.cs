using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Seccm.Maps.LongCsv;

/// <summary>
/// Parses invariant-culture decimal numbers from UTF-8 with Clinger's fast path: when the significand is at most 2^53
/// and the decimal exponent is within +-22, significand and power of ten are both exact doubles and one IEEE
/// multiplication or division gives the correctly rounded result, the same bits as double.Parse. Significands of up to
/// 19 digits with any other exponent (what the "R" format writes for currents such as 1.0825064128045634E-12) go
/// through the Eisel-Lemire algorithm (Lemire, "Number parsing at a gigabyte per second", Softw. Pract. Exp. 51, 2021):
/// one 64x128-bit product with a truncated power of five, correctly rounded, giving up whenever the truncation could
/// matter. Anything else (more digits, subnormals, overflow, odd syntax) and every give-up goes to double.TryParse, so
/// results never differ from it.
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

    /// <summary>The whole of <paramref name="s"/> as a plain number by the fast algorithms; false when they cannot say.</summary>
    internal static bool TryParseFast(ReadOnlySpan<byte> s, out double value) =>
        TryParsePrefix(s, out value, out var consumed) && consumed == s.Length;

    /// <summary>
    /// Parses the plain number that starts <paramref name="s"/> (<c>[-+]digits[.digits][(e|E)[-+]digits]</c>, at most 19
    /// digits, an exponent of at most 4 digits) and says how many bytes it took; the caller checks what follows (a comma,
    /// the end of the line). The value is correctly rounded (Clinger, else Eisel-Lemire): the same bits as double.Parse of
    /// the bytes taken. False for anything else and whenever the fast algorithms give up: the caller then splits the line
    /// and uses <see cref="TryParse"/> on the field. Eight digits at a time (SWAR, Lemire 2021, section 6).
    /// </summary>
    internal static bool TryParsePrefix(ReadOnlySpan<byte> s, out double value, out int consumed)
    {
        value = 0;
        consumed = 0;
        var i = 0;
        var negative = false;
        if (i < s.Length && (s[i] == (byte)'-' || s[i] == (byte)'+'))
        {
            negative = s[i] == (byte)'-';
            i++;
        }
        ulong significand = 0;
        var digits = ReadDigits(s, ref i, ref significand);
        var fractionDigits = 0;
        if (i < s.Length && s[i] == (byte)'.')
        {
            i++;
            fractionDigits = ReadDigits(s, ref i, ref significand);
            digits += fractionDigits;
        }
        if (digits == 0 || digits > 19)
        {
            return false; // beyond 19 digits the significand has wrapped: TryParse decides
        }
        var exponent = 0;
        if (i < s.Length && (s[i] | 0x20) == (byte)'e')
        {
            i++;
            var negativeExponent = false;
            if (i < s.Length && (s[i] == (byte)'-' || s[i] == (byte)'+'))
            {
                negativeExponent = s[i] == (byte)'-';
                i++;
            }
            var exponentStart = i;
            while (i < s.Length && (uint)(s[i] - '0') <= 9)
            {
                exponent = (exponent * 10) + (s[i] - '0');
                i++;
            }
            if (i == exponentStart || i - exponentStart > 4)
            {
                return false;
            }
            if (negativeExponent)
            {
                exponent = -exponent;
            }
        }
        consumed = i;
        var exponent10 = exponent - fractionDigits;
        if (significand == 0)
        {
            return ReturnZero(negative, out value);
        }
        if (significand > MaxExactSignificand || exponent10 < -22 || exponent10 > 22)
        {
            return TryEiselLemire(significand, exponent10, negative, out value);
        }
        double result = significand;
        result = exponent10 < 0 ? result / PowersOf10[-exponent10] : result * PowersOf10[exponent10];
        value = negative ? -result : result;
        return true;
    }

    private static readonly ulong[] ExactPowersOf10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

    /// <summary>
    /// Appends the run of digits at <paramref name="i"/> to <paramref name="significand"/> (wrapping past 19 digits; the
    /// caller counts) and returns how many there were. Eight bytes at a time while eight remain: the first non-digit is
    /// found by one mask, the digits before it are converted together (SWAR, Lemire 2021, section 6), so a run's length
    /// costs no branch per digit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadDigits(ReadOnlySpan<byte> s, ref int i, ref ulong significand)
    {
        var start = i;
        while (i + 8 <= s.Length)
        {
            var v = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(i, 8));
            // The high bit of a byte is set when it is not '0'..'9'; exact for every byte up to the first non-digit
            // (carries and borrows only move towards later bytes).
            var nonDigits = ((v + 0x4646464646464646UL) | (v - 0x3030303030303030UL)) & 0x8080808080808080UL;
            var n = BitOperations.TrailingZeroCount(nonDigits) >> 3; // 8 when all are digits
            if (n == 0)
            {
                return i - start;
            }
            v -= 0x3030303030303030UL;
            if (n < 8)
            {
                v <<= 8 * (8 - n); // the n digits to the end, zero digits (leading zeros) before them
            }
            v = (v * 10) + (v >> 8); // pairs of digits
            const ulong mask = 0x000000FF000000FFUL;
            const ulong mul1 = 100 + (1_000_000UL << 32);
            const ulong mul2 = 1 + (10_000UL << 32);
            var value = (uint)((((v & mask) * mul1) + (((v >> 16) & mask) * mul2)) >> 32);
            significand = (significand * ExactPowersOf10[n]) + value;
            i += n;
            if (n < 8)
            {
                return i - start;
            }
        }
        while (i < s.Length && (uint)(s[i] - '0') <= 9)
        {
            significand = (significand * 10) + (uint)(s[i] - '0');
            i++;
        }
        return i - start;
    }

    private const int MinPower5 = -342;
    private const int MaxPower5 = 308;

    /// <summary>
    /// 5^q for q in [-342, 308] as 128 bits, normalised so the top bit is set: for q &gt;= 0 truncated; for q &lt; 0
    /// 2^b / 5^-q plus one (b = z + 127 for q &gt;= -27, where z is the bit length of 5^-q; b = 2z + 128 otherwise, then
    /// truncated to 128 bits). High word at 2i, low word at 2i + 1 for q = i - 342. Computed once (651 BigIntegers).
    /// </summary>
    private static readonly ulong[] Powers5 = BuildPowers5();

    private static ulong[] BuildPowers5()
    {
        var table = new ulong[2 * (MaxPower5 - MinPower5 + 1)];
        var two128 = BigInteger.One << 128;
        var two127 = BigInteger.One << 127;
        for (int q = MinPower5; q <= MaxPower5; q++)
        {
            BigInteger c;
            if (q < 0)
            {
                var power5 = BigInteger.Pow(5, -q);
                var z = (int)power5.GetBitLength(); // the least z with 2^z >= 5^-q, as 5^-q is no power of two
                var b = q >= -27 ? z + 127 : (2 * z) + 128;
                c = (BigInteger.One << b) / power5 + 1;
                while (c >= two128)
                {
                    c >>= 1;
                }
            }
            else
            {
                c = BigInteger.Pow(5, q);
                while (c < two127)
                {
                    c <<= 1;
                }
                while (c >= two128)
                {
                    c >>= 1;
                }
            }
            var i = 2 * (q - MinPower5);
            table[i] = (ulong)(c >> 64);
            table[i + 1] = (ulong)(c & ulong.MaxValue);
        }
        return table;
    }

    /// <summary>
    /// w * 10^q for 0 &lt; w &lt; 10^19, correctly rounded to nearest-even; false (so the caller asks double.TryParse) when
    /// the truncated product cannot decide the rounding, or the result would be subnormal, zero or infinite.
    /// </summary>
    private static bool TryEiselLemire(ulong w, int q, bool negative, out double value)
    {
        value = 0;
        if (q < MinPower5 || q > MaxPower5)
        {
            return false;
        }
        var leadingZeros = BitOperations.LeadingZeroCount(w);
        w <<= leadingZeros;
        var index = 2 * (q - MinPower5);
        // 55 bits are needed (52 stored + hidden bit + rounding bit + the product's possible leading zero); the low 9 of
        // the high word all ones means the truncated low part of 5^q might carry into them: add the second product.
        const ulong precisionMask = ulong.MaxValue >> 55;
        var high = Math.BigMul(w, Powers5[index], out var low);
        if ((high & precisionMask) == precisionMask)
        {
            var secondHigh = Math.BigMul(w, Powers5[index + 1], out _);
            low += secondHigh;
            if (secondHigh > low)
            {
                high++;
            }
            if ((high & precisionMask) == precisionMask && low == ulong.MaxValue && (q < -27 || q > 55))
            {
                return false;
            }
        }
        var upperBit = (int)(high >> 63);
        var mantissa = high >> (upperBit + 9);
        // floor(log2(10^q)) + 63 via 217706 / 2^16 ~ log2(10); plus the double exponent bias 1023.
        var power2 = (((152170 + 65536) * q) >> 16) + 63 + upperBit - leadingZeros + 1023;
        if (power2 <= 0)
        {
            return false;
        }
        // Exactly halfway between two doubles (possible only for small |q|): round to even, not up.
        if (low <= 1 && q >= -4 && q <= 23 && (mantissa & 3) == 1 && (mantissa << (upperBit + 9)) == high)
        {
            mantissa &= ~1UL;
        }
        mantissa += mantissa & 1;
        mantissa >>= 1;
        if (mantissa >= 2UL << 52)
        {
            mantissa = 1UL << 52;
            power2++;
        }
        mantissa &= ~(1UL << 52);
        if (power2 >= 2047)
        {
            return false;
        }
        var bits = mantissa | ((ulong)power2 << 52) | (negative ? 1UL << 63 : 0);
        value = BitConverter.UInt64BitsToDouble(bits);
        return true;
    }

    private static bool ReturnZero(bool negative, out double value)
    {
        value = negative ? -0.0 : 0.0;
        return true;
    }
}
