using System.Globalization;

namespace Seccm.Potentiostat.Drivers.MethodScript;

/// <summary>
/// One value of a data package: its 2-letter type, value in SI units, the status flags (metadata '1X', 0 when
/// absent) and the device's current range code (metadata '2XX', hex, null when absent).
/// </summary>
internal readonly record struct MethodScriptValue(string Type, double Value, int Status, int? CurrentRangeCode)
{
    /// <summary>Status bit 0x2: the current was above the range (overload).</summary>
    public bool Overload => (Status & 0x2) != 0;

    /// <summary>Status bit 0x4: the current was below the range's useful resolution (underload).</summary>
    public bool Underload => (Status & 0x4) != 0;

    /// <summary>The status bits and a NaN value as <see cref="SampleFlags"/>.</summary>
    public SampleFlags Flags => (SampleFlags)(Status & 0xF) | (double.IsNaN(Value) ? SampleFlags.NotANumber : SampleFlags.None);
}

/// <summary>Parses MethodSCRIPT data packages: <c>P</c> then <c>;</c>-separated values.</summary>
internal static class MethodScriptPackage
{
    private const int Offset = 0x8000000;

    /// <summary>
    /// Parses a package line such as <c>Pda7F85F3Fu;ba48D503Dp,10,288</c>. Throws <see cref="FormatException"/>
    /// naming the value and the character that is wrong.
    /// </summary>
    public static MethodScriptValue[] Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (line.Length < 2 || line[0] != 'P')
        {
            throw new FormatException($"'{Shorten(line)}' is not a data package: it must start with 'P'.");
        }
        var parts = line[1..].Split(';');
        var values = new MethodScriptValue[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            values[i] = ParseValue(parts[i], i, line);
        }
        return values;
    }

    private static MethodScriptValue ParseValue(string text, int index, string line)
    {
        var fields = text.Split(',');
        var main = fields[0];
        if (main.Length != 10)
        {
            throw new FormatException(
                $"Value {index + 1} '{Shorten(main)}' of package '{Shorten(line)}' must be 10 characters (2-letter type, 7 hex digits, SI prefix), not {main.Length}.");
        }
        var type = main[..2];
        if (!char.IsAsciiLetterLower(type[0]) || !char.IsAsciiLetterLower(type[1]))
        {
            throw new FormatException($"Value {index + 1} of package '{Shorten(line)}' has type '{type}': a type is two lower-case letters.");
        }
        // A value the device cannot measure comes as "nan", space-padded to the 8 characters of digits and prefix.
        var isNan = main.AsSpan(2) is "     nan";
        if (isNan)
        {
            var (nanStatus, nanRange) = ParseMetadata(fields, index, line);
            return new MethodScriptValue(type, double.NaN, nanStatus, nanRange);
        }
        if (!int.TryParse(main.AsSpan(2, 7), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var raw))
        {
            throw new FormatException($"Value {index + 1} of package '{Shorten(line)}' has '{main[2..9]}' where 7 hex digits belong.");
        }
        var factor = MethodScriptValues.Factor(main[9])
            ?? throw new FormatException($"Value {index + 1} of package '{Shorten(line)}' ends in '{main[9]}', which is not an SI prefix (a f p n u m ' ' k M G T P E i).");
        var (status, range) = ParseMetadata(fields, index, line);
        return new MethodScriptValue(type, (raw - Offset) * factor, status, range);
    }

    private static (int Status, int? Range) ParseMetadata(string[] fields, int index, string line)
    {
        var status = 0;
        int? range = null;
        for (var m = 1; m < fields.Length; m++)
        {
            var meta = fields[m];
            if (meta.Length == 2 && meta[0] == '1' && char.IsAsciiHexDigit(meta[1]))
            {
                status = Convert.ToInt32(meta[1..], 16);
            }
            else if (meta.Length == 3 && meta[0] == '2' && char.IsAsciiHexDigit(meta[1]) && char.IsAsciiHexDigit(meta[2]))
            {
                range = Convert.ToInt32(meta[1..], 16);
            }
            else if (meta.Length == 0 || !char.IsAsciiDigit(meta[0]) || !meta.Skip(1).All(char.IsAsciiHexDigit))
            {
                throw new FormatException($"Value {index + 1} of package '{Shorten(line)}' has metadata '{Shorten(meta)}': metadata is a digit (its kind) and hex digits.");
            }
            // Other metadata kinds (digit + hex) are valid MethodSCRIPT we have no use for.
        }
        return (status, range);
    }

    /// <summary>Keeps error messages readable when a device sends a kilobyte of garbage.</summary>
    internal static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
