using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Seccm.Maps.Tables;

namespace Seccm.Maps.Gsf;

/// <summary>
/// Gwyddion Simple Field (.gsf, Gwyddion 2.20+): the magic line, <c>Key = Value</c> header lines, 1-4 NUL bytes so the
/// data starts at a multiple of 4, then little-endian float32 values row by row. Gwyddion draws the first row at the
/// top with y growing downwards; rows are written in <see cref="MapGrid"/> order (row 0 at <c>YOffset</c>), so
/// coordinates agree with the map although Gwyddion shows it upside down relative to our PNGs (y up). NaN pixels are
/// written as NaN (Gwyddion's file modules replace non-finite values and mask them; not checked against a Gwyddion
/// install here).
/// </summary>
public static class GsfFormat
{
    public const string Magic = "Gwyddion Simple Field 1.0";

    /// <summary>
    /// Writes <paramref name="map"/> atomically. Lateral sizes go in metres; values are multiplied by
    /// <paramref name="zFactor"/> and labelled <paramref name="zUnits"/> (default: the map's unit), e.g. a D map in
    /// cm^2/s written with zFactor 1e-4 and "m^2/s" so Gwyddion shows SI. <paramref name="metadata"/> adds
    /// instrument-specific <c>Key = Value</c> lines (keys are identifiers, values one line).
    /// </summary>
    public static void Write(string path, MapGrid map, double zFactor = 1, string? zUnits = null,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        AtomicFile.WriteAllBytes(path, ToBytes(map, zFactor, zUnits, metadata));
    }

    public static byte[] ToBytes(MapGrid map, double zFactor = 1, string? zUnits = null,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        var header = new StringBuilder();
        header.Append(Magic).Append('\n');
        void Line(string key, string value)
        {
            if (!IsIdentifier(key))
            {
                throw new ArgumentException($"GSF header key '{key}' is not an identifier (letters, digits, underscore).", nameof(metadata));
            }
            if (value.AsSpan().IndexOfAny('\n', '\r', '\0') >= 0)
            {
                throw new ArgumentException($"GSF header value of '{key}' contains a line break or NUL.", nameof(metadata));
            }
            header.Append(key).Append(" = ").Append(value).Append('\n');
        }
        static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        Line("XRes", map.Nx.ToString(CultureInfo.InvariantCulture));
        Line("YRes", map.Ny.ToString(CultureInfo.InvariantCulture));
        Line("XReal", Number(map.XRealUm / 1e6));
        Line("YReal", Number(map.YRealUm / 1e6));
        Line("XOffset", Number(map.XOriginUm / 1e6));
        Line("YOffset", Number(map.YOriginUm / 1e6));
        Line("XYUnits", "m");
        Line("ZUnits", zUnits ?? map.Unit);
        Line("Title", map.Name);
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            if (ReservedKeys.Contains(key))
            {
                throw new ArgumentException($"GSF metadata key '{key}' is written from the map itself.", nameof(metadata));
            }
            Line(key, value);
        }
        var headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        var padding = 4 - (headerBytes.Length % 4); // 1..4: at least one NUL terminates the header
        var bytes = new byte[headerBytes.Length + padding + (4 * map.Values.Length)];
        headerBytes.CopyTo(bytes, 0);
        var data = bytes.AsSpan(headerBytes.Length + padding);
        for (var i = 0; i < map.Values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data[(4 * i)..], (float)(map.Values[i] * zFactor));
        }
        return bytes;
    }

    /// <summary>Reads a GSF file into a map (lateral units converted to um, values as stored, unit = ZUnits).</summary>
    public static GsfField Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DataFileException(path, 0, null, $"cannot be read: {ex.Message}", ex);
        }
        return Parse(bytes, path);
    }

    public static GsfField Parse(ReadOnlySpan<byte> bytes, string name)
    {
        var nul = bytes.IndexOf((byte)0);
        if (nul < 0)
        {
            throw new DataFileException(name, 0, null, "no NUL byte ends the header; this is not a GSF file");
        }
        var headerText = Encoding.UTF8.GetString(bytes[..nul]);
        var lines = headerText.Split('\n');
        if (lines[0].TrimEnd('\r') != Magic)
        {
            throw new DataFileException(name, 1, null, $"the first line is '{Shorten(lines[0])}', expected '{Magic}'");
        }
        var header = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new DataFileException(name, i + 1, null, $"'{Shorten(line)}' is not a 'Key = Value' line");
            }
            header[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }
        int Res(string key)
        {
            var line = HeaderLine(lines, key);
            if (!header.TryGetValue(key, out var text))
            {
                throw new DataFileException(name, 0, key, "is missing from the header");
            }
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v <= 0)
            {
                throw new DataFileException(name, line, key, $"'{Shorten(text)}' is not a positive integer");
            }
            return v;
        }
        double Real(string key, double fallback, bool positive)
        {
            if (!header.TryGetValue(key, out var text))
            {
                return fallback;
            }
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || (positive && v <= 0))
            {
                throw new DataFileException(name, HeaderLine(lines, key), key, $"'{Shorten(text)}' is not a {(positive ? "positive " : "")}finite number");
            }
            return v;
        }
        var nx = Res("XRes");
        var ny = Res("YRes");
        var xReal = Real("XReal", 1, positive: true);
        var yReal = Real("YReal", 1, positive: true);
        var xOffset = Real("XOffset", 0, positive: false);
        var yOffset = Real("YOffset", 0, positive: false);
        var dataStart = (nul + 4) & ~3;
        var expected = (long)nx * ny * 4;
        var available = bytes.Length - dataStart;
        if (dataStart > bytes.Length || available != expected)
        {
            throw new DataFileException(name, 0, null, $"{Math.Max(available, 0)} data bytes after the header, expected {expected} for {nx} x {ny} float32 values");
        }
        var values = new double[nx * ny];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(dataStart + (4 * i))..]);
        }
        // The header says metres unless XYUnits says otherwise; only metres are converted to um.
        var xyScale = header.GetValueOrDefault("XYUnits", "m") == "m" ? 1e6 : 1;
        var map = new MapGrid(header.GetValueOrDefault("Title", ""), header.GetValueOrDefault("ZUnits", ""), nx, ny,
            xReal * xyScale / nx, yReal * xyScale / ny, values, xOffset * xyScale, yOffset * xyScale);
        return new GsfField(map, header);
    }

    private static readonly HashSet<string> ReservedKeys =
        ["XRes", "YRes", "XReal", "YReal", "XOffset", "YOffset", "XYUnits", "ZUnits", "Title"];

    private static long HeaderLine(string[] lines, string key)
    {
        for (var i = 1; i < lines.Length; i++)
        {
            var eq = lines[i].IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && lines[i][..eq].Trim() == key)
            {
                return i + 1;
            }
        }
        return 0;
    }

    private static bool IsIdentifier(string key) =>
        key.Length > 0 && (char.IsAsciiLetter(key[0]) || key[0] == '_') && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";
}

/// <summary>A GSF file read back: the map (um, values as stored) and every header line.</summary>
public sealed record GsfField(MapGrid Map, IReadOnlyDictionary<string, string> Header);
