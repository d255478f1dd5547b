using Seccm.Contracts.Scan;

namespace Seccm.Scan.Raster;

/// <summary>The ordered list of pixels a recipe visits.</summary>
public static class RasterPlan
{
    public static (int Nx, int Ny, IReadOnlyList<PixelSpec> Pixels) Build(Recipe recipe)
    {
        var origin = recipe.Origin ?? new PointSpec(0, 0);
        if (recipe.Grid is { } grid)
        {
            var pixels = new List<PixelSpec>(grid.Nx * grid.Ny);
            for (var iy = 0; iy < grid.Ny; iy++)
            {
                var reverse = recipe.Raster == RasterOrder.Snake && iy % 2 == 1;
                for (var k = 0; k < grid.Nx; k++)
                {
                    var ix = reverse ? grid.Nx - 1 - k : k;
                    pixels.Add(new PixelSpec(pixels.Count, ix, iy, origin.XUm + ix * grid.PitchUm, origin.YUm + iy * grid.PitchUm));
                }
            }
            return (grid.Nx, grid.Ny, pixels);
        }
        var points = recipe.Points ?? [];
        return (points.Count, 1, points.Select((p, i) => new PixelSpec(i, i, 0, p.XUm, p.YUm)).ToList());
    }
}
