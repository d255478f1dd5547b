using PureHDF;
using Seccm.Maps.LongCsv;
using Seccm.Maps.Tables;

namespace Seccm.Maps.Hdf5;

/// <summary>What goes into one scan's HDF5 file; everything but <see cref="ScanId"/> is optional.</summary>
public sealed class ScanHdf5Content
{
    public required string ScanId { get; init; }

    public string Instrument { get; init; } = "";

    /// <summary>Extra root attributes (e.g. sample, operator, software version, start time as ISO 8601).</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();

    /// <summary>Each map becomes <c>/maps/{Name}</c>, a [Ny, Nx] float64 dataset; names must be unique.</summary>
    public IReadOnlyList<MapGrid> Maps { get; init; } = [];

    /// <summary>Becomes <c>/pixels/{column}</c>, one 1D dataset per column with a <c>unit</c> attribute.</summary>
    public PixelTable? Pixels { get; init; }

    /// <summary>Raw curves, concatenated into <c>/curves/potential_v</c> and <c>/curves/current_a</c> with an index.</summary>
    public IReadOnlyList<CvCurve> Curves { get; init; } = [];

    /// <summary>The recipe as JSON, stored as the <c>json</c> attribute of <c>/recipe</c>.</summary>
    public string? RecipeJson { get; init; }
}

/// <summary>
/// Writes a scan to one HDF5 file (PureHDF, no native library). Layout:
/// <list type="bullet">
/// <item>root attributes <c>format</c>, <c>scan_id</c>, <c>instrument</c>, <c>units</c> and the caller's extras;</item>
/// <item><c>/maps/{name}</c>: float64 [Ny, Nx], row 0 at <c>y_origin_um</c>, NaN = no data; attributes <c>unit</c>,
/// <c>x_origin_um</c>, <c>y_origin_um</c>, <c>pitch_x_um</c>, <c>pitch_y_um</c> (origin = outer corner of pixel 0,0);</item>
/// <item><c>/pixels/{column}</c>: 1D datasets (float64, int32 or strings), attribute <c>unit</c>;</item>
/// <item><c>/curves</c>: <c>potential_v</c>, <c>current_a</c> (float64, all curves end to end) and one row per curve in
/// <c>pixel_x</c>, <c>pixel_y</c> (int32), <c>scan_rate_v_s</c> (float64), <c>start</c>, <c>count</c> (int64): curve k is
/// samples [start[k], start[k] + count[k]);</item>
/// <item><c>/recipe</c>: attribute <c>json</c>.</item>
/// </list>
/// Written atomically.
/// </summary>
public static class ScanHdf5
{
    public const string FormatName = "seccm-scan 1";

    public static void Write(string path, ScanHdf5Content content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var file = Build(content);
        AtomicFile.Write(path, stream => file.Write(stream));
    }

    private static H5File Build(ScanHdf5Content content)
    {
        ArgumentException.ThrowIfNullOrEmpty(content.ScanId);
        var file = new H5File();
        file.Attributes["format"] = FormatName;
        file.Attributes["scan_id"] = content.ScanId;
        file.Attributes["instrument"] = content.Instrument;
        file.Attributes["units"] = "SI (V, A, V/s, m^2/s) unless a dataset's unit attribute says otherwise; lateral positions in um";
        foreach (var (key, value) in content.Attributes)
        {
            if (file.Attributes.ContainsKey(key))
            {
                throw new ArgumentException($"Root attribute '{key}' is written by the exporter itself.", nameof(content));
            }
            file.Attributes[key] = value;
        }

        var maps = new H5Group();
        foreach (var map in content.Maps)
        {
            CheckName(map.Name, "map");
            if (maps.ContainsKey(map.Name))
            {
                throw new ArgumentException($"Two maps are named '{map.Name}'.", nameof(content));
            }
            var values = new double[map.Ny, map.Nx];
            Buffer.BlockCopy(map.Values, 0, values, 0, map.Values.Length * sizeof(double));
            maps[map.Name] = new H5Dataset(values)
            {
                Attributes = new()
                {
                    ["unit"] = map.Unit,
                    ["x_origin_um"] = map.XOriginUm,
                    ["y_origin_um"] = map.YOriginUm,
                    ["pitch_x_um"] = map.PitchXUm,
                    ["pitch_y_um"] = map.PitchYUm,
                },
            };
        }
        file["maps"] = maps;

        if (content.Pixels is { } table)
        {
            var pixels = new H5Group { Attributes = new() { ["rows"] = table.RowCount } };
            foreach (var column in table.Columns)
            {
                pixels[column.Name] = new H5Dataset(column.Values) { Attributes = new() { ["unit"] = column.Unit } };
            }
            file["pixels"] = pixels;
        }

        if (content.Curves.Count > 0)
        {
            file["curves"] = BuildCurves(content.Curves);
        }

        if (content.RecipeJson is { } recipe)
        {
            file["recipe"] = new H5Group { Attributes = new() { ["json"] = recipe } };
        }
        return file;
    }

    private static H5Group BuildCurves(IReadOnlyList<CvCurve> curves)
    {
        long total = 0;
        foreach (var c in curves)
        {
            if (c.PotentialV.Length != c.CurrentA.Length)
            {
                throw new ArgumentException($"Curve of pixel ({c.PixelX}, {c.PixelY}) at {c.ScanRateVPerS} V/s: {c.PotentialV.Length} potentials but {c.CurrentA.Length} currents.", nameof(curves));
            }
            total += c.Count;
        }
        var potential = new double[total];
        var current = new double[total];
        var px = new int[curves.Count];
        var py = new int[curves.Count];
        var rate = new double[curves.Count];
        var start = new long[curves.Count];
        var count = new long[curves.Count];
        long at = 0;
        for (var k = 0; k < curves.Count; k++)
        {
            var c = curves[k];
            c.PotentialV.CopyTo(potential, at);
            c.CurrentA.CopyTo(current, at);
            (px[k], py[k], rate[k], start[k], count[k]) = (c.PixelX, c.PixelY, c.ScanRateVPerS, at, c.Count);
            at += c.Count;
        }
        return new H5Group
        {
            Attributes = new() { ["layout"] = "curve k = samples [start[k], start[k] + count[k]) of potential_v and current_a" },
            ["potential_v"] = new H5Dataset(potential) { Attributes = new() { ["unit"] = "V" } },
            ["current_a"] = new H5Dataset(current) { Attributes = new() { ["unit"] = "A" } },
            ["pixel_x"] = new H5Dataset(px),
            ["pixel_y"] = new H5Dataset(py),
            ["scan_rate_v_s"] = new H5Dataset(rate) { Attributes = new() { ["unit"] = "V/s" } },
            ["start"] = new H5Dataset(start),
            ["count"] = new H5Dataset(count),
        };
    }

    private static void CheckName(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            throw new ArgumentException($"The {what} name '{name}' cannot be an HDF5 link name (empty, '/', '.' or '..').", nameof(name));
        }
    }
}
