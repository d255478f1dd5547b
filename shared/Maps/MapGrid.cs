namespace Seccm.Maps;

/// <summary>
/// A regular 2D map: <see cref="Nx"/> x <see cref="Ny"/> pixels, row-major (<c>Values[iy * Nx + ix]</c>), NaN = no data.
/// <see cref="XOriginUm"/>/<see cref="YOriginUm"/> is the outer corner of pixel (0, 0), not its centre, so the map covers
/// [XOriginUm, XOriginUm + Nx * PitchXUm] and likewise in y. Values are in <see cref="Unit"/> (e.g. "m^2/s", "A", "m").
/// </summary>
public sealed class MapGrid
{
    public MapGrid(string name, string unit, int nx, int ny, double pitchUm, double[] values,
        double xOriginUm = 0, double yOriginUm = 0)
        : this(name, unit, nx, ny, pitchUm, pitchUm, values, xOriginUm, yOriginUm)
    {
    }

    public MapGrid(string name, string unit, int nx, int ny, double pitchXUm, double pitchYUm, double[] values,
        double xOriginUm, double yOriginUm)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(unit);
        ArgumentNullException.ThrowIfNull(values);
        if (nx <= 0 || ny <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(nx), $"Map '{name}': size {nx} x {ny} must be positive in both directions.");
        }
        if (!(pitchXUm > 0) || !(pitchYUm > 0) || !double.IsFinite(pitchXUm) || !double.IsFinite(pitchYUm))
        {
            throw new ArgumentOutOfRangeException(nameof(pitchXUm), $"Map '{name}': pitch {pitchXUm} x {pitchYUm} um must be positive and finite.");
        }
        if (!double.IsFinite(xOriginUm) || !double.IsFinite(yOriginUm))
        {
            throw new ArgumentOutOfRangeException(nameof(xOriginUm), $"Map '{name}': origin ({xOriginUm}, {yOriginUm}) um must be finite.");
        }
        if (values.Length != (long)nx * ny)
        {
            throw new ArgumentException($"Map '{name}': {values.Length} values for {nx} x {ny} = {(long)nx * ny} pixels.", nameof(values));
        }
        Name = name;
        Unit = unit;
        Nx = nx;
        Ny = ny;
        PitchXUm = pitchXUm;
        PitchYUm = pitchYUm;
        XOriginUm = xOriginUm;
        YOriginUm = yOriginUm;
        Values = values;
    }

    /// <summary>A map with every pixel NaN (no data), to be filled in as pixel results arrive.</summary>
    public static MapGrid NoData(string name, string unit, int nx, int ny, double pitchUm, double xOriginUm = 0, double yOriginUm = 0)
    {
        if (nx <= 0 || ny <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(nx), $"Map '{name}': size {nx} x {ny} must be positive in both directions.");
        }
        var values = new double[(long)nx * ny];
        Array.Fill(values, double.NaN);
        return new MapGrid(name, unit, nx, ny, pitchUm, values, xOriginUm, yOriginUm);
    }

    public string Name { get; }

    public string Unit { get; }

    public int Nx { get; }

    public int Ny { get; }

    public double PitchXUm { get; }

    public double PitchYUm { get; }

    public double XOriginUm { get; }

    public double YOriginUm { get; }

    /// <summary>Row-major values, <c>Values[iy * Nx + ix]</c>; NaN where there is no data.</summary>
    public double[] Values { get; }

    public double XRealUm => Nx * PitchXUm;

    public double YRealUm => Ny * PitchYUm;

    public double this[int ix, int iy] => Values[(iy * Nx) + ix];

    /// <summary>The centre of pixel (ix, iy) in um.</summary>
    public (double XUm, double YUm) PixelCentreUm(int ix, int iy) =>
        (XOriginUm + ((ix + 0.5) * PitchXUm), YOriginUm + ((iy + 0.5) * PitchYUm));

    /// <summary>A map on the same grid with other values (and optionally another name and unit).</summary>
    public MapGrid With(double[] values, string? name = null, string? unit = null) =>
        new(name ?? Name, unit ?? Unit, Nx, Ny, PitchXUm, PitchYUm, values, XOriginUm, YOriginUm);

    /// <summary>The same map with every value multiplied by <paramref name="factor"/> (a unit change, e.g. 1e4 for m^2/s to cm^2/s).</summary>
    public MapGrid Scaled(double factor, string unit)
    {
        var scaled = new double[Values.Length];
        for (var i = 0; i < scaled.Length; i++)
        {
            scaled[i] = Values[i] * factor;
        }
        return With(scaled, unit: unit);
    }
}
