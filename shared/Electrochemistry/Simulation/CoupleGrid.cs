namespace Seccm.Electrochemistry.Simulation;

/// <summary>
/// Finite-volume diffusion of the oxidised species of one couple on an expanding grid (fine at the
/// interface, coarse in the bulk), time-stepped with BDF2 (BE for the first step). Finite volumes keep
/// the charge exactly conserved. The far boundary is a no-flux wall: the film back contact, or for
/// semi-infinite diffusion a wall far beyond the diffusion length of the whole experiment.
/// The tridiagonal system is eliminated from the far wall towards the interface, so the interface
/// current for any trial electrode potential costs O(1): that is what makes the implicit iR solve cheap.
/// </summary>
internal sealed class CoupleGrid
{
    private readonly RedoxCouple _couple;
    private readonly double[] _volume;   // cm per unit area (control-volume width)
    private readonly double[] _coupling; // D / h between node i and i+1, cm/s
    private readonly double[] _c;        // oxidised concentration now, mol/cm^3
    private readonly double[] _cPrev;    // one step back (BDF2)
    private readonly double[] _a;        // elimination: c[i+1] = a[i] c[i] + b[i]
    private readonly double[] _b;
    private readonly double _fOverRt;
    private readonly double _faradayArea;
    private bool _hasHistory;
    private double _q, _p, _lastC0;

    public CoupleGrid(RedoxCouple couple, double areaCm2, double temperatureK, double filmThicknessCm, double shortestTimeS, double totalTimeS)
    {
        _couple = couple;
        _fOverRt = PhysicalConstants.FOverRtPerV(couple.N, temperatureK);
        _faradayArea = couple.N * PhysicalConstants.FaradayCPerMol * areaCm2;
        double d = couple.DCm2PerS;
        double far = Math.Min(filmThicknessCm, 6.5 * Math.Sqrt(d * totalTimeS));
        double h0 = Math.Min(0.04 * Math.Sqrt(d * shortestTimeS), far / 40);
        const double growth = 1.12;
        var x = new List<double> { 0 };
        double h = h0;
        while (x[^1] + h < far)
        {
            x.Add(x[^1] + h);
            h *= growth;
        }
        // Last interval ends exactly at the wall; merge a sliver into its neighbour.
        if (far - x[^1] < 0.5 * (x[^1] - x[^2]) && x.Count > 2) x[^1] = far; else x.Add(far);
        int n = x.Count;
        _volume = new double[n];
        _coupling = new double[n - 1];
        for (int i = 0; i < n - 1; i++)
        {
            double dx = x[i + 1] - x[i];
            _coupling[i] = d / dx;
            _volume[i] += dx / 2;
            _volume[i + 1] += dx / 2;
        }
        _c = new double[n];
        _cPrev = new double[n];
        _a = new double[n];
        _b = new double[n];
    }

    public int Nodes => _c.Length;

    /// <summary>Total oxidised amount per unit area, mol/cm^2 (for conservation checks).</summary>
    public double OxidisedPerAreaMolCm2()
    {
        double s = 0;
        for (int i = 0; i < _c.Length; i++) s += _c[i] * _volume[i];
        return s;
    }

    /// <summary>Nernstian equilibrium with electrode potential <paramref name="potentialV"/> everywhere.</summary>
    public void Equilibrate(double potentialV)
    {
        double xi = Math.Clamp(_fOverRt * (potentialV - _couple.E0V), -700, 700);
        double fractionOx = 1 / (1 + Math.Exp(-xi));
        double g = _couple.InteractionG;
        if (g > 0)
        {
            // Frumkin isotherm xi = ln(x/(1-x)) + g(1-2x) is monotone for g < 2: bisect in x.
            double lo = 0, hi = 1;
            for (int it = 0; it < 200; it++)
            {
                double x = 0.5 * (lo + hi);
                double f = Math.Log(x / (1 - x)) + g * (1 - 2 * x);
                if (f < xi) lo = x; else hi = x;
            }
            fractionOx = 0.5 * (lo + hi);
        }
        Array.Fill(_c, _couple.ConcentrationMolCm3 * fractionOx);
        Array.Fill(_cPrev, _couple.ConcentrationMolCm3 * fractionOx);
        _hasHistory = false;
    }

    /// <summary>Eliminates the bulk for the coming step; afterwards <see cref="CurrentA"/> is O(1) per trial potential.</summary>
    public void Prepare(double dtS)
    {
        int n = _c.Length;
        // BDF2: (3/2 c' - 2 c + 1/2 c_prev)/dt; BE on the first step.
        double beta = _hasHistory ? 1.5 : 1.0;
        double bOverDt = beta / dtS;
        double Rhs(int i) => (_hasHistory ? 2 * _c[i] - 0.5 * _cPrev[i] : _c[i]) * _volume[i] / dtS;

        double den = _volume[n - 1] * bOverDt + _coupling[n - 2];
        _a[n - 2] = _coupling[n - 2] / den;
        _b[n - 2] = Rhs(n - 1) / den;
        for (int i = n - 2; i >= 1; i--)
        {
            den = _volume[i] * bOverDt + _coupling[i - 1] + _coupling[i] * (1 - _a[i]);
            _a[i - 1] = _coupling[i - 1] / den;
            _b[i - 1] = (Rhs(i) + _coupling[i] * _b[i]) / den;
        }
        _q = _volume[0] * bOverDt + _coupling[0] * (1 - _a[0]);
        _p = Rhs(0) + _coupling[0] * _b[0];
    }

    /// <summary>Faradaic current (A, anodic positive) if the electrode sits at <paramref name="potentialV"/> over the step.</summary>
    public double CurrentA(double potentialV)
    {
        double e0 = _couple.E0V;
        if (_couple.InteractionG > 0) e0 += _couple.InteractionG * (1 - 2 * SurfaceOxidisedFraction) / _fOverRt;
        double xi = _fOverRt * (potentialV - e0);
        double k0 = _couple.K0CmPerS;
        double kOx = k0 * Math.Exp(Math.Clamp((1 - _couple.Alpha) * xi, -600, 600));
        double kRed = k0 * Math.Exp(Math.Clamp(-_couple.Alpha * xi, -600, 600));
        double total = _couple.ConcentrationMolCm3;
        double c0 = (kOx * total + _p) / (_q + kOx + kRed);
        _lastC0 = c0;
        return _faradayArea * (_q * c0 - _p);
    }

    /// <summary>Completes the step at the potential last passed to <see cref="CurrentA"/>.</summary>
    public void Commit()
    {
        int n = _c.Length;
        Array.Copy(_c, _cPrev, n);
        _c[0] = _lastC0;
        for (int i = 0; i < n - 1; i++) _c[i + 1] = _a[i] * _c[i] + _b[i];
        _hasHistory = true;
    }

    /// <summary>Oxidised fraction at the interface.</summary>
    public double SurfaceOxidisedFraction => _couple.ConcentrationMolCm3 > 0 ? _c[0] / _couple.ConcentrationMolCm3 : 0;
}
