using System.Buffers.Binary;
using Seccm.Maps.Figures;
using SkiaSharp;

namespace Seccm.Maps.Tests.Figures;

public sealed class FigureTests
{
    private static readonly byte[] PngMagic = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static void AssertPng(byte[] png, int width, int height)
    {
        Assert.Equal(PngMagic, png[..8]);
        // IHDR is the first chunk: width and height big-endian at bytes 16 and 20.
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.InRange(png.Length, 10_000, 5_000_000);
    }

    private static MapGrid DMap(int n = 32)
    {
        var v = new double[n * n];
        for (var iy = 0; iy < n; iy++)
        {
            for (var ix = 0; ix < n; ix++)
            {
                v[(iy * n) + ix] = 2.47e-15 * Math.Pow(10, (ix - (n / 2.0)) / n);
            }
        }
        for (var ix = 0; ix < n; ix++)
        {
            v[ix] = double.NaN; // the bottom row has no data
        }
        return new MapGrid("D", "m^2/s", n, n, 5.0 / n, v);
    }

    private static int CountColour(byte[] png, SKColor colour, Func<int, int, bool>? where = null)
    {
        using var bitmap = SKBitmap.Decode(png);
        var count = 0;
        for (var y = 0; y < bitmap.Height; y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                if (bitmap.GetPixel(x, y) == colour && (where?.Invoke(x, y) ?? true))
                {
                    count++;
                }
            }
        }
        return count;
    }

    [Fact]
    public void Diffusion_map_is_a_png_with_no_data_pixels_grey_at_the_bottom()
    {
        var png = MapFigure.Render(DMap(), MapFigureOptions.DiffusionFromM2PerS());
        AssertPng(png, 800, 700);
        var grey = new SKColor(0xBD, 0xBD, 0xBD);
        // One map row of 32 is grey: a strip in the lower half of the image (y up, row 0 at the bottom).
        var lower = CountColour(png, grey, (_, y) => y > 350);
        var upper = CountColour(png, grey, (_, y) => y < 300);
        Assert.True(lower > 1000, $"{lower} grey pixels in the lower half");
        Assert.True(upper < 400, $"{upper} grey pixels in the upper half (legend swatch only)");
    }

    [Fact]
    public void Log_ticks_are_labelled_in_the_display_unit()
    {
        var ticks = MapFigure.LogTickList(Math.Log10(7e-12), Math.Log10(8e-11));
        var labels = ticks.Where(t => t.IsMajor).Select(t => t.Label).ToList();
        Assert.Contains("1e-11", labels);
        Assert.Contains("2e-11", labels);
        Assert.Contains("5e-11", labels);
        Assert.DoesNotContain("1e-10", labels); // outside the range
        Assert.Equal(Math.Log10(2e-11), ticks.Single(t => t.Label == "2e-11").Position, 12);
    }

    [Fact]
    public void Narrow_log_range_still_gets_labels()
    {
        var labels = MapFigure.LogTickList(Math.Log10(2.1e-11), Math.Log10(2.6e-11))
            .Where(t => t.IsMajor).Select(t => t.Label).ToList();
        Assert.True(labels.Count >= 2, string.Join(", ", labels));
    }

    [Fact]
    public void Degenerate_maps_still_render()
    {
        AssertPng(MapFigure.Render(new MapGrid("flat", "A", 4, 4, 1, Enumerable.Repeat(1e-12, 16).ToArray())), 800, 700);
        AssertPng(MapFigure.Render(new MapGrid("empty", "A", 4, 4, 1, Enumerable.Repeat(double.NaN, 16).ToArray())), 800, 700);
        AssertPng(MapFigure.Render(new MapGrid("wide", "A", 40, 4, 1, new double[160]), new MapFigureOptions { WidthPx = 600, HeightPx = 300 }), 600, 300);
        AssertPng(MapFigure.Render(new MapGrid("neg", "m^2/s", 2, 2, 1, [-1, 0, 1, 2]), new MapFigureOptions { Log10 = true }), 800, 700);
    }

    [Fact]
    public void Topography_map_in_nm_and_saved_atomically()
    {
        using var dir = new TempDir();
        var path = dir.File("topo.png");
        var z = Enumerable.Range(0, 256).Select(i => i * 1e-10).ToArray();
        MapFigure.Save(path, new MapGrid("height", "m", 16, 16, 0.3, z), MapFigureOptions.TopographyFromM());
        AssertPng(File.ReadAllBytes(path), 800, 700);
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Histogram_with_log_bins()
    {
        var rng = new Random(1);
        var d = Enumerable.Range(0, 500).Select(_ => 2.47e-15 * Math.Exp(rng.NextDouble() - 0.5)).Append(double.NaN).Append(-1).ToList();
        AssertPng(HistogramFigure.Render(d, HistogramOptions.DiffusionFromM2PerS()), 800, 600);
        AssertPng(HistogramFigure.Render([], new HistogramOptions { Quantity = "R²" }), 800, 600);
        AssertPng(HistogramFigure.Render([3, 3, 3], new HistogramOptions { Bins = 5 }), 800, 600);
    }

    [Fact]
    public void Cv_figure_with_fits()
    {
        double[] rates = [1.25, 2.5, 5, 10, 20];
        var curves = rates.Select((r, k) =>
        {
            var e = Enumerable.Range(0, 200).Select(i => 1.3 + (0.5 * (i < 100 ? i : 200 - i) / 100.0)).ToArray();
            var i = e.Select((x, j) => (j < 100 ? 1 : -1) * 3.2e-12 * Math.Sqrt(r / 1.25) * Math.Exp(-Math.Pow((x - 1.55) / 0.05, 2))).ToArray();
            return new XySeries($"{r} V/s", e, i) { Group = k };
        }).ToList();
        var sqrt = rates.Select(Math.Sqrt).ToArray();
        var fit = new PeakFitSeries("pixel (3, 4)", sqrt, sqrt.Select(s => 2.86e-12 * s).ToArray(), 2.86e-12, 0);
        AssertPng(CvFigure.Render(curves, [fit]), 1400, 650);
        Assert.Throws<ArgumentException>(() => CvFigure.Render(curves, [fit with { PeakCurrentA = [1e-12] }]));
    }

    [Fact]
    public void Capacity_and_line_figures()
    {
        var q = Enumerable.Range(0, 50).Select(i => i * 0.02).ToArray();
        AssertPng(CapacityFigure.Render(
        [
            new ChargeDischargeCurve("charge", q, q.Select(x => 1.5 + (0.1 * x)).ToArray(), true),
            new ChargeDischargeCurve("discharge", q, q.Select(x => 1.6 - (0.1 * x)).ToArray(), false),
        ]), 800, 600);
        AssertPng(LineFigure.Render([new XySeries("a", [0, 1, 2], [1, 4, 9]) { Markers = true }], new LineFigureOptions { XLabel = "t (s)", YLabel = "O₂ (ppm)" }), 800, 600);
        Assert.Throws<ArgumentException>(() => LineFigure.Render([new XySeries("bad", [0, 1], [1])]));
        Assert.Throws<ArgumentOutOfRangeException>(() => LineFigure.Render([], new LineFigureOptions { WidthPx = 10 }));
    }
}
