using Seccm.Contracts.Scan;
using Seccm.Scan.Raster;

namespace Seccm.Scan.Tests.Raster;

public sealed class RasterPlanTests
{
    [Fact]
    public void Snake_order_reverses_every_other_row_and_visits_each_pixel_once()
    {
        var recipe = new Recipe("r", new GridSpec(3, 2, 0.5), Origin: new PointSpec(10, 20));
        var (nx, ny, pixels) = RasterPlan.Build(recipe);
        Assert.Equal((3, 2), (nx, ny));
        Assert.Equal(new[] { (0, 0), (1, 0), (2, 0), (2, 1), (1, 1), (0, 1) }, pixels.Select(p => (p.Ix, p.Iy)));
        Assert.Equal(Enumerable.Range(0, 6), pixels.Select(p => p.Index));
        Assert.Equal(11.0, pixels[2].XUm);
        Assert.Equal(20.5, pixels[3].YUm);
    }

    [Fact]
    public void Row_order_keeps_left_to_right()
    {
        var (_, _, pixels) = RasterPlan.Build(new Recipe("r", new GridSpec(2, 2, 1), Raster: RasterOrder.Row));
        Assert.Equal(new[] { (0, 0), (1, 0), (0, 1), (1, 1) }, pixels.Select(p => (p.Ix, p.Iy)));
    }
}
