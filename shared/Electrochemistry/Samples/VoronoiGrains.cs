namespace Seccm.Electrochemistry.Samples;

/// <summary>Seeded Voronoi tessellation: grain index of the nearest seed point.</summary>
internal sealed class VoronoiGrains
{
    private readonly double[] _x, _y;

    public VoronoiGrains(int count, double sizeUm, Random random)
    {
        _x = new double[count];
        _y = new double[count];
        for (int i = 0; i < count; i++)
        {
            _x[i] = random.NextDouble() * sizeUm;
            _y[i] = random.NextDouble() * sizeUm;
        }
    }

    public int Count => _x.Length;

    public (double XUm, double YUm) Centre(int grain) => (_x[grain], _y[grain]);

    public int GrainAt(double xUm, double yUm)
    {
        int best = 0;
        double bestD = double.MaxValue;
        for (int i = 0; i < _x.Length; i++)
        {
            double dx = xUm - _x[i], dy = yUm - _y[i];
            double d = dx * dx + dy * dy;
            if (d < bestD) { bestD = d; best = i; }
        }
        return best;
    }
}
