using Seccm.Maps.Figures;

namespace Seccm.Maps.Tests.Figures;

public sealed class TopographyTests
{
    [Fact]
    public void Removes_an_exact_plane_and_keeps_the_raw_map()
    {
        const int nx = 20, ny = 12;
        var raw = new MapGrid("height", "m", nx, ny, 0.25, new double[nx * ny], xOriginUm: 100, yOriginUm: -40);
        for (var iy = 0; iy < ny; iy++)
        {
            for (var ix = 0; ix < nx; ix++)
            {
                var (x, y) = raw.PixelCentreUm(ix, iy);
                raw.Values[(iy * nx) + ix] = 5e-9 + (3e-8 * x) - (1.2e-8 * y);
            }
        }
        raw.Values[7] = double.NaN;
        var copy = (double[])raw.Values.Clone();
        var (levelled, plane) = Topography.LevelPlane(raw);

        Assert.Equal(3e-8, plane.SlopeXPerUm, 1e-18);
        Assert.Equal(-1.2e-8, plane.SlopeYPerUm, 1e-18);
        Assert.Equal(5e-9, plane.Offset, 1e-14);
        Assert.True(double.IsNaN(levelled.Values[7]));
        Assert.All(levelled.Values.Where(double.IsFinite), v => Assert.Equal(0, v, 1e-14));
        Assert.Equal(copy, raw.Values);
        Assert.Equal("m", levelled.Unit);
    }

    [Fact]
    public void Keeps_features_above_the_plane()
    {
        var raw = new MapGrid("h", "m", 9, 9, 1, new double[81]);
        for (var i = 0; i < 81; i++)
        {
            raw.Values[i] = (i % 9) * 1e-9;
        }
        raw.Values[40] += 10e-9; // a bump in the centre
        var (levelled, _) = Topography.LevelPlane(raw);
        var background = levelled.Values.Where((_, i) => i != 40).Average();
        Assert.Equal(10e-9, levelled.Values[40] - background, 1e-12);
    }

    [Fact]
    public void Refuses_too_few_or_collinear_pixels()
    {
        var few = new MapGrid("h", "m", 2, 2, 1, [1, 2, double.NaN, double.NaN]);
        Assert.Contains("at least 3", Assert.Throws<ArgumentException>(() => Topography.LevelPlane(few)).Message, StringComparison.Ordinal);
        var line = new MapGrid("h", "m", 3, 2, 1, [1, 2, 3, double.NaN, double.NaN, double.NaN]);
        Assert.Contains("one line", Assert.Throws<ArgumentException>(() => Topography.LevelPlane(line)).Message, StringComparison.Ordinal);
    }
}
