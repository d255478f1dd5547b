using System.Globalization;

namespace Seccm.Potentiostat.Drivers.MethodScript;

/// <summary>MethodSCRIPT numbers: integers with one SI prefix character, in scripts and in data packages.</summary>
internal static class MethodScriptValues
{
    private static readonly (char Prefix, double Factor)[] Prefixes =
    [
        ('E', 1e18), ('P', 1e15), ('T', 1e12), ('G', 1e9), ('M', 1e6), ('k', 1e3), (' ', 1),
        ('m', 1e-3), ('u', 1e-6), ('n', 1e-9), ('p', 1e-12), ('f', 1e-15), ('a', 1e-18),
    ];

    /// <summary>The factor of an SI prefix character, or null when the character is not one.</summary>
    public static double? Factor(char prefix) => prefix switch
    {
        'a' => 1e-18, 'f' => 1e-15, 'p' => 1e-12, 'n' => 1e-9, 'u' => 1e-6, 'm' => 1e-3, ' ' => 1, 'i' => 1,
        'k' => 1e3, 'M' => 1e6, 'G' => 1e9, 'T' => 1e12, 'P' => 1e15, 'E' => 1e18,
        _ => null,
    };

    /// <summary>
    /// Writes <paramref name="value"/> the way a script argument must look: an integer with the largest SI prefix
    /// that keeps it exact (0.5 -> "500m", -1 -> "-1", 0.0123 -> "12300u"). Values finer than atto are rounded.
    /// </summary>
    public static string Format(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "MethodSCRIPT has no way to write a non-finite number.");
        }
        if (value == 0)
        {
            return "0";
        }
        foreach (var (prefix, factor) in Prefixes)
        {
            var mantissa = value / factor;
            var rounded = Math.Round(mantissa);
            // A mantissa below 1 means a smaller prefix is needed; the tolerance absorbs binary fractions (0.1/1e-3).
            if (Math.Abs(rounded) >= 1 && Math.Abs(mantissa - rounded) <= 1e-6 * Math.Abs(mantissa) && Math.Abs(rounded) < int.MaxValue)
            {
                return rounded.ToString("0", CultureInfo.InvariantCulture) + (prefix == ' ' ? "" : prefix.ToString());
            }
        }
        return Math.Round(value / 1e-18).ToString("0", CultureInfo.InvariantCulture) + "a";
    }
}
