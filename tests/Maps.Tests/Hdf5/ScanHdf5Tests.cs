using PureHDF;
using Seccm.Maps.Hdf5;
using Seccm.Maps.LongCsv;
using Seccm.Maps.Tables;

namespace Seccm.Maps.Tests.Hdf5;

public sealed class ScanHdf5Tests
{
    private static ScanHdf5Content Content()
    {
        var d = new double[4 * 3];
        for (var i = 0; i < d.Length; i++)
        {
            d[i] = 2.47e-15 * (1 + (0.1 * i));
        }
        d[5] = double.NaN;
        return new ScanHdf5Content
        {
            ScanId = "scan-42",
            Instrument = "seccm-1",
            Attributes = new Dictionary<string, string> { ["sample"] = "LTO film" },
            Maps = [new MapGrid("d", "m^2/s", 4, 3, 0.078125, d, 1, 2), new MapGrid("r2", "", 4, 3, 0.078125, new double[12], 1, 2)],
            Pixels = new PixelTable(2).Add("pixel_x", [0, 1]).Add("d_m2_s", [2.47e-15, double.NaN], "m^2/s").Add("flags", ["", "thin_layer"]),
            Curves =
            [
                new CvCurve(0, 0, 1.25, [1.3, 1.4, 1.5], [1e-12, 3e-12, 2e-12]),
                new CvCurve(0, 0, 2.5, [1.3, 1.5], [2e-12, 4e-12]),
                new CvCurve(3, 2, 1.25, [1.3], [-1e-12]),
            ],
            RecipeJson = """{"nx":64,"ny":64,"scanRatesVPerS":[1.25,2.5]}""",
        };
    }

    [Fact]
    public void Everything_reads_back_with_PureHDF()
    {
        using var dir = new TempDir();
        var path = dir.File("scan.h5");
        var content = Content();
        ScanHdf5.Write(path, content);

        using var file = H5File.OpenRead(path);
        Assert.Equal("scan-42", file.Attribute("scan_id").Read<string>());
        Assert.Equal("seccm-1", file.Attribute("instrument").Read<string>());
        Assert.Equal("LTO film", file.Attribute("sample").Read<string>());
        Assert.Equal(ScanHdf5.FormatName, file.Attribute("format").Read<string>());

        var d = file.Dataset("/maps/d");
        Assert.Equal([3UL, 4UL], d.Space.Dimensions);
        var values = d.Read<double[,]>();
        Assert.Equal(content.Maps[0].Values[(2 * 4) + 1], values[2, 1]);
        Assert.True(double.IsNaN(values[1, 1]));
        Assert.Equal("m^2/s", d.Attribute("unit").Read<string>());
        Assert.Equal(0.078125, d.Attribute("pitch_x_um").Read<double>());
        Assert.Equal(2.0, d.Attribute("y_origin_um").Read<double>());
        Assert.True(file.LinkExists("/maps/r2"));

        Assert.Equal([0, 1], file.Dataset("/pixels/pixel_x").Read<int[]>());
        var dPix = file.Dataset("/pixels/d_m2_s").Read<double[]>();
        Assert.Equal(2.47e-15, dPix[0]);
        Assert.True(double.IsNaN(dPix[1]));
        Assert.Equal("m^2/s", file.Dataset("/pixels/d_m2_s").Attribute("unit").Read<string>());
        Assert.Equal(["", "thin_layer"], file.Dataset("/pixels/flags").Read<string[]>());

        var start = file.Dataset("/curves/start").Read<long[]>();
        var count = file.Dataset("/curves/count").Read<long[]>();
        var potential = file.Dataset("/curves/potential_v").Read<double[]>();
        var current = file.Dataset("/curves/current_a").Read<double[]>();
        Assert.Equal([0L, 3, 5], start);
        Assert.Equal([3L, 2, 1], count);
        Assert.Equal([0, 0, 3], file.Dataset("/curves/pixel_x").Read<int[]>());
        Assert.Equal([0, 0, 2], file.Dataset("/curves/pixel_y").Read<int[]>());
        Assert.Equal([1.25, 2.5, 1.25], file.Dataset("/curves/scan_rate_v_s").Read<double[]>());
        var curves = content.Curves.ToList();
        for (var k = 0; k < curves.Count; k++)
        {
            Assert.Equal(curves[k].PotentialV, potential.AsSpan((int)start[k], (int)count[k]).ToArray());
            Assert.Equal(curves[k].CurrentA, current.AsSpan((int)start[k], (int)count[k]).ToArray());
        }

        Assert.Equal(content.RecipeJson, file.Group("recipe").Attribute("json").Read<string>());
    }

    [Fact]
    public void Converts_a_long_csv_file_curve_by_curve()
    {
        using var dir = new TempDir();
        var csv = dir.File("cv.csv");
        var rng = new Random(5);
        var written = new List<CvCurve>();
        for (var p = 0; p < 30; p++)
        {
            foreach (var rate in new[] { 1.25, 2.5, 5 })
            {
                var n = 1 + rng.Next(3000); // chunk boundaries fall inside curves
                written.Add(new CvCurve(p % 6, p / 6, rate,
                    Enumerable.Range(0, n).Select(i => 1.3 + (i * 1e-4)).ToArray(),
                    Enumerable.Range(0, n).Select(_ => (rng.NextDouble() - 0.5) * 1e-11).ToArray()));
            }
        }
        LongCsvWriter.WriteFile(csv, written);
        var h5 = dir.File("scan.h5");
        ScanHdf5.Write(h5, new ScanHdf5Content { ScanId = "csv", Curves = LongCsvReader.ReadCurves(csv) });

        using var file = H5File.OpenRead(h5);
        var start = file.Dataset("/curves/start").Read<long[]>();
        var count = file.Dataset("/curves/count").Read<long[]>();
        var current = file.Dataset("/curves/current_a").Read<double[]>();
        Assert.Equal(written.Count, start.Length);
        Assert.Equal(written.Sum(c => (long)c.Count), current.LongLength);
        for (var k = 0; k < written.Count; k++)
        {
            Assert.Equal(written[k].CurrentA, current.AsSpan((int)start[k], (int)count[k]).ToArray());
        }
    }

    [Fact]
    public void A_source_that_changes_between_passes_is_an_error_and_leaves_no_file()
    {
        using var dir = new TempDir();
        var calls = 0;
        IEnumerable<CvCurve> Curves()
        {
            calls++;
            yield return new CvCurve(0, 0, 1, new double[calls], new double[calls]);
        }
        Assert.Throws<InvalidOperationException>(() => ScanHdf5.Write(dir.File("x.h5"), new ScanHdf5Content { ScanId = "s", Curves = Curves() }));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Minimal_content_writes_a_valid_file()
    {
        using var dir = new TempDir();
        var path = dir.File("min.h5");
        ScanHdf5.Write(path, new ScanHdf5Content { ScanId = "s" });
        using var file = H5File.OpenRead(path);
        Assert.Equal("s", file.Attribute("scan_id").Read<string>());
        Assert.False(file.LinkExists("curves"));
    }

    [Fact]
    public void Bad_content_is_refused_before_anything_is_written()
    {
        using var dir = new TempDir();
        var path = dir.File("bad.h5");
        var map = new MapGrid("a/b", "A", 1, 1, 1, [1.0]);
        Assert.Throws<ArgumentException>(() => ScanHdf5.Write(path, new ScanHdf5Content { ScanId = "s", Maps = [map] }));
        var twice = new MapGrid("a", "A", 1, 1, 1, [1.0]);
        Assert.Throws<ArgumentException>(() => ScanHdf5.Write(path, new ScanHdf5Content { ScanId = "s", Maps = [twice, twice] }));
        Assert.Throws<ArgumentException>(() => ScanHdf5.Write(path, new ScanHdf5Content
        {
            ScanId = "s",
            Attributes = new Dictionary<string, string> { ["scan_id"] = "other" },
        }));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
