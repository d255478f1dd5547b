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

    /// <summary>
    /// Raw curves, concatenated into <c>/curves/potential_v</c> and <c>/curves/current_a</c> with an index. Enumerated
    /// twice (once to size the datasets, once to write them curve by curve), so a re-readable lazy source such as
    /// <c>LongCsvReader.ReadCurves(path)</c> converts a file of any size in constant memory.
    /// </summary>
    public IEnumerable<CvCurve> Curves { get; init; } = [];

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
        var curves = IndexCurves(content.Curves);
        if (curves is not null)
        {
            file["curves"] = curves.Group;
        }
        AtomicFile.Write(path, stream =>
        {
            using var writer = file.BeginWrite(new NonClosingStream(stream));
            if (curves is not null)
            {
                WriteSamples(writer, curves, content.Curves);
            }
        });
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

        if (content.RecipeJson is { } recipe)
        {
            file["recipe"] = new H5Group { Attributes = new() { ["json"] = recipe } };
        }
        return file;
    }

    private sealed record CurveIndex(H5Group Group, H5Dataset<double[]> Potential, H5Dataset<double[]> Current, long[] Start, long[] Count);

    /// <summary>First pass: the per-curve index, and sample datasets sized for all curves but not yet filled.</summary>
    private static CurveIndex? IndexCurves(IEnumerable<CvCurve> curves)
    {
        var px = new List<int>();
        var py = new List<int>();
        var rate = new List<double>();
        var start = new List<long>();
        var count = new List<long>();
        long total = 0;
        foreach (var c in curves)
        {
            if (c.PotentialV.Length != c.CurrentA.Length)
            {
                throw new ArgumentException($"Curve of pixel ({c.PixelX}, {c.PixelY}) at {c.ScanRateVPerS} V/s: {c.PotentialV.Length} potentials but {c.CurrentA.Length} currents.", nameof(curves));
            }
            px.Add(c.PixelX);
            py.Add(c.PixelY);
            rate.Add(c.ScanRateVPerS);
            start.Add(total);
            count.Add(c.Count);
            total += c.Count;
        }
        if (px.Count == 0)
        {
            return null;
        }
        // Chunked so the samples can be written curve by curve; 64 Ki values (512 KiB) per chunk.
        var chunk = (uint)Math.Clamp(total, 1, 1 << 16);
        var potential = new H5Dataset<double[]>(fileDims: [(ulong)total], chunks: [chunk]) { Attributes = new() { ["unit"] = "V" } };
        var current = new H5Dataset<double[]>(fileDims: [(ulong)total], chunks: [chunk]) { Attributes = new() { ["unit"] = "A" } };
        var group = new H5Group
        {
            Attributes = new() { ["layout"] = "curve k = samples [start[k], start[k] + count[k]) of potential_v and current_a" },
            ["potential_v"] = potential,
            ["current_a"] = current,
            ["pixel_x"] = new H5Dataset(px.ToArray()),
            ["pixel_y"] = new H5Dataset(py.ToArray()),
            ["scan_rate_v_s"] = new H5Dataset(rate.ToArray()) { Attributes = new() { ["unit"] = "V/s" } },
            ["start"] = new H5Dataset(start.ToArray()),
            ["count"] = new H5Dataset(count.ToArray()),
        };
        return new CurveIndex(group, potential, current, [.. start], [.. count]);
    }

    /// <summary>Second pass: the samples, checked against the first pass so a source that changed is an error, not a corrupt file.</summary>
    private static void WriteSamples(H5NativeWriter writer, CurveIndex index, IEnumerable<CvCurve> curves)
    {
        var k = 0;
        foreach (var c in curves)
        {
            if (k >= index.Start.Length || c.Count != index.Count[k])
            {
                throw new InvalidOperationException("The curves changed between the two passes of the HDF5 export; pass a source that yields the same curves each time.");
            }
            if (c.Count > 0)
            {
                var selection = new PureHDF.Selections.HyperslabSelection((ulong)index.Start[k], (ulong)c.Count);
                writer.Write(index.Potential, c.PotentialV, fileSelection: selection);
                writer.Write(index.Current, c.CurrentA, fileSelection: selection);
            }
            k++;
        }
        if (k != index.Start.Length)
        {
            throw new InvalidOperationException("The curves changed between the two passes of the HDF5 export; pass a source that yields the same curves each time.");
        }
    }

    /// <summary>Lets PureHDF close "its" stream without closing the atomic file before it is committed.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => inner.Position = value; }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => inner.SetLength(value);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

        public override int Read(Span<byte> buffer) => inner.Read(buffer);

        protected override void Dispose(bool disposing) => inner.Flush();
    }

    private static void CheckName(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            throw new ArgumentException($"The {what} name '{name}' cannot be an HDF5 link name (empty, '/', '.' or '..').", nameof(name));
        }
    }
}
