namespace Seccm.Maps.Figures;

/// <summary>The least-squares plane z = Offset + SlopeXPerUm * x + SlopeYPerUm * y (x, y at pixel centres in um).</summary>
public sealed record PlaneFit(double Offset, double SlopeXPerUm, double SlopeYPerUm);

/// <summary>Height-map corrections.</summary>
public static class Topography
{
    /// <summary>
    /// First-order levelling: fits a plane to every finite pixel by least squares and returns a new map with the plane
    /// subtracted (the raw map is not touched; NaN stays NaN), plus the plane. Needs three pixels not on one line.
    /// </summary>
    public static (MapGrid Levelled, PlaneFit Plane) LevelPlane(MapGrid raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        // Centred coordinates keep the normal equations well conditioned for maps far from the origin.
        double sx = 0, sy = 0, sz = 0;
        var n = 0;
        for (var iy = 0; iy < raw.Ny; iy++)
        {
            for (var ix = 0; ix < raw.Nx; ix++)
            {
                var z = raw[ix, iy];
                if (double.IsFinite(z))
                {
                    var (x, y) = raw.PixelCentreUm(ix, iy);
                    sx += x;
                    sy += y;
                    sz += z;
                    n++;
                }
            }
        }
        if (n < 3)
        {
            throw new ArgumentException($"Map '{raw.Name}': {n} pixels with data; a plane needs at least 3.", nameof(raw));
        }
        double mx = sx / n, my = sy / n, mz = sz / n;
        double sxx = 0, sxy = 0, syy = 0, sxz = 0, syz = 0;
        for (var iy = 0; iy < raw.Ny; iy++)
        {
            for (var ix = 0; ix < raw.Nx; ix++)
            {
                var z = raw[ix, iy];
                if (double.IsFinite(z))
                {
                    var (x, y) = raw.PixelCentreUm(ix, iy);
                    double dx = x - mx, dy = y - my, dz = z - mz;
                    sxx += dx * dx;
                    sxy += dx * dy;
                    syy += dy * dy;
                    sxz += dx * dz;
                    syz += dy * dz;
                }
            }
        }
        var det = (sxx * syy) - (sxy * sxy);
        if (!(Math.Abs(det) > 1e-12 * Math.Max(sxx * syy, double.Epsilon)))
        {
            throw new ArgumentException($"Map '{raw.Name}': the pixels with data lie on one line; no plane can be fitted.", nameof(raw));
        }
        var b = ((sxz * syy) - (syz * sxy)) / det;
        var c = ((syz * sxx) - (sxz * sxy)) / det;
        var a = mz - (b * mx) - (c * my);
        var levelled = new double[raw.Values.Length];
        for (var iy = 0; iy < raw.Ny; iy++)
        {
            for (var ix = 0; ix < raw.Nx; ix++)
            {
                var (x, y) = raw.PixelCentreUm(ix, iy);
                levelled[(iy * raw.Nx) + ix] = raw[ix, iy] - (a + (b * x) + (c * y));
            }
        }
        return (raw.With(levelled, name: raw.Name + " (plane levelled)"), new PlaneFit(a, b, c));
    }
}
