namespace Seccm.Electrochemistry.Analysis;

/// <summary>What the semi-integral fit of a pixel's forward sweeps found; NaN where a quantity was not part of it.</summary>
internal readonly record struct SemiIntegralFitResult(
    double DCm2PerS, double K0CmPerS, double Alpha, double UncompensatedResistanceOhm, double E0V, double ResidualRmsA)
{
    /// <summary>Whether alpha was fitted (false: given).</summary>
    public bool AlphaFitted { get; init; }

    /// <summary>Whether R_u was fitted (false: given).</summary>
    public bool ResistanceFitted { get; init; }

    /// <summary>C_dl from the sweeps' constant baselines against v, F; NaN with one rate.</summary>
    public double DoubleLayerF { get; init; } = double.NaN;

    /// <summary>The residual is far above the noise, or the slow and fast rates disagree: the model does not describe these waves.</summary>
    public bool Misfit { get; init; }

    /// <summary>R_u was fitted from too narrow a range of rates to be told apart from the kinetics.</summary>
    public bool IrUndetermined { get; init; }

    /// <summary>The fitted baseline of each sweep (A, at <see cref="MidPotentialV"/>) and their shared slope (A/V).</summary>
    public double[] OffsetsA { get; init; } = [];
    public double SlopeAPerV { get; init; }
    public double MidPotentialV { get; init; }

    public SemiIntegralFit.Parameters Physical => new(DCm2PerS, K0CmPerS, E0V, Alpha, UncompensatedResistanceOhm);
}

/// <summary>
/// Butler-Volmer kinetics (k0, alpha) with uncompensated resistance, solved exactly for semi-infinite planar diffusion
/// through the semi-integral (Nicholson-Shain / Imbeaux-Saveant): the surface share of the consumed species is
/// 1 - m(t), m the semi-integral of the dimensionless current, so no concentration profile is computed. The current is
/// piecewise linear in time between samples (product integration, O(h^2): 0.04% on the reversible peak at 4 mV steps).
/// The electrode sits at E - R_u i, i the model's own total current (faradaic plus baseline), solved self-consistently
/// at every sample by a bracketed Newton step: iR lowers and broadens a peak, which no shift of the measured potential
/// axis can do. One D, k0, E0, alpha and R_u are shared by every rate: iR grows with ip ~ sqrt(v), the kinetic shift
/// with ln v, so the rates together separate them. Each sweep has a constant baseline (leakage plus C_dl v) and all
/// share one leakage slope.
/// </summary>
internal static class SemiIntegralFit
{
    private const int MaxIterations = 80;
    internal const double AlphaMin = 0.15, AlphaMax = 0.85;

    /// <summary>
    /// One forward sweep from its first sample (the model needs the whole history); the fit compares from
    /// <paramref name="FitFrom"/>. <paramref name="PreviousCycleV"/>: the potentials of one whole cycle swept before it, same
    /// step, when the recording is one of repeated cycles (it starts on the previous cycle's decaying tail); null when it
    /// starts at rest.
    /// </summary>
    internal readonly record struct Sweep(double ScanRateVPerS, double[] PotentialV, double[] CurrentA, double Direction, int FitFrom, double[]? PreviousCycleV = null);

    /// <summary>The physical parameters of the model.</summary>
    internal readonly record struct Parameters(double DCm2PerS, double K0CmPerS, double E0V, double Alpha, double ResistanceOhm);

    /// <summary>
    /// Model current (A) of one sweep: faradaic current plus the baseline <paramref name="offsetA"/> + <paramref name="slopeAPerV"/>
    /// (E - <paramref name="eMidV"/>), the electrode at E - R_u times that total current.
    /// </summary>
    internal static void Simulate(Sweep sweep, Parameters p, double offsetA, double slopeAPerV, double eMidV, AnalysisSettings settings, double[] output)
    {
        var e = sweep.PreviousCycleV is { } previous ? [.. previous, .. sweep.PotentialV] : sweep.PotentialV;
        int count = e.Length;
        int skip = count - sweep.PotentialV.Length;
        double f = PhysicalConstants.FOverRtPerV(settings.N, settings.TemperatureK);
        double v = sweep.ScanRateVPerS;
        double dir = sweep.Direction;
        double scale = settings.N * PhysicalConstants.FaradayCPerMol * settings.EffectiveAreaCm2 * settings.ConcentrationMolCm3 * Math.Sqrt(p.DCm2PerS * f * v);
        double lambda = p.K0CmPerS / Math.Sqrt(p.DCm2PerS * f * v);
        // Transfer coefficient of the consumption of the species in solution: alpha for a reduction, 1 - alpha for an oxidation.
        double beta = dir < 0 ? p.Alpha : 1 - p.Alpha;
        double c = f * p.ResistanceOhm * scale;
        // Dimensionless time f v t: the potential step in units of RT/nF.
        // Dimensionless time step f v dt: the mean potential step (a whole cycle returns to its start) in units of RT/nF.
        var own = sweep.PotentialV;
        double path = 0;
        for (int q = 1; q < own.Length; q++) path += Math.Abs(own[q] - own[q - 1]);
        double h = own.Length > 1 ? f * path / (own.Length - 1) : 1;
        var w = Weights(count, h);
        var psi = new double[count];
        // The sweep starts at rest (the start potential far before the wave): no current at t = 0.
        if (skip == 0) output[0] = offsetA + slopeAPerV * (e[0] - eMidV);
        for (int j = 1; j < count; j++)
        {
            // m_j = a psi_j + history, the newest current with the weight of the right node of the last interval.
            double history = 0;
            for (int i = 1; i < j; i++) history += psi[i] * (w.Right[j - i] + w.Left[j - i - 1]);
            double a = w.Right[0];
            double baseline = offsetA + slopeAPerV * (e[j] - eMidV);
            double eta0 = dir * f * (e[j] - p.ResistanceOhm * baseline - p.E0V);
            psi[j] = Solve(psi[j - 1], a, history, eta0, c, lambda, beta);
            if (j >= skip) output[j - skip] = dir * scale * psi[j] + baseline;
        }
    }

    /// <summary>
    /// psi = Lambda [(1 - m) e^(beta eta) - m e^((beta - 1) eta)] with m = a psi + history and eta = eta0 - c psi: increasing
    /// in psi, so Newton steps kept inside the bracket where the surface shares stay within [0, 1] converge.
    /// </summary>
    private static double Solve(double start, double a, double history, double eta0, double c, double lambda, double beta)
    {
        double lo = -history / a, hi = (1 - history) / a;
        if (lo > hi) (lo, hi) = (hi, lo);
        double x = Math.Clamp(start, lo, hi);
        for (int iteration = 0; iteration < 100; iteration++)
        {
            double m = a * x + history;
            double eta = eta0 - c * x;
            double e1 = Math.Exp(Math.Clamp(beta * eta, -700, 700));
            double e2 = Math.Exp(Math.Clamp((beta - 1) * eta, -700, 700));
            double g = x - lambda * ((1 - m) * e1 - m * e2);
            if (g > 0) hi = x; else lo = x;
            double dg = 1 + lambda * a * (e1 + e2) + lambda * c * ((1 - m) * beta * e1 + m * (1 - beta) * e2);
            double next = x - g / dg;
            if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
            if (Math.Abs(next - x) <= 1e-13 * (1 + Math.Abs(x)) || hi - lo <= 1e-15 * (1 + Math.Abs(x))) return next;
            x = next;
        }
        return x;
    }

    private sealed record WeightSet(double[] Right, double[] Left);

    /// <summary>
    /// Product-integration weights of pi^-1/2 int psi(s) (t - s)^-1/2 ds for psi linear between nodes h apart: the interval
    /// k steps back gives its right node (k+1) h A_k - B_k and its left node B_k - k h A_k (over h sqrt(pi)), with
    /// A_k, B_k the integrals of tau^-1/2 and tau^1/2 over it.
    /// </summary>
    private static WeightSet Weights(int count, double h)
    {
        var right = new double[count + 1];
        var left = new double[count + 1];
        double sqrtPi = Math.Sqrt(Math.PI);
        for (int k = 0; k <= count; k++)
        {
            double a = 2 * Math.Sqrt(h) * (Math.Sqrt(k + 1.0) - Math.Sqrt(k));
            double b = 2.0 / 3 * Math.Pow(h, 1.5) * (Math.Pow(k + 1.0, 1.5) - Math.Pow(k, 1.5));
            right[k] = ((k + 1) * h * a - b) / (h * sqrtPi);
            left[k] = (b - k * h * a) / (h * sqrtPi);
        }
        return new WeightSet(right, left);
    }

    /// <summary>
    /// Fits D, k0, E0, and alpha and R_u unless given, with the sweeps' baselines. Null when the fit does not converge to
    /// a physical answer.
    /// </summary>
    internal static SemiIntegralFitResult? Fit(IReadOnlyList<Sweep> sweeps, AnalysisSettings settings, Parameters start, double? alphaGiven, double? resistanceGivenOhm)
    {
        int m = sweeps.Count;
        if (m == 0 || !(start.DCm2PerS > 0) || !(start.K0CmPerS > 0) || !double.IsFinite(start.E0V)) return null;
        double f = PhysicalConstants.FOverRtPerV(settings.N, settings.TemperatureK);
        double yScale = sweeps.Max(s => s.CurrentA.Max(Math.Abs));
        if (!(yScale > 0)) return null;
        double eMin = sweeps.Min(s => s.PotentialV.Min()), eMax = sweeps.Max(s => s.PotentialV.Max());
        double eMid = 0.5 * (eMin + eMax);
        // R_u in units of (RT/nF) / (largest current): 1 means an iR drop of one thermal voltage at the largest current.
        double rScale = 1 / f / yScale;
        double sScale = Math.Sqrt(start.DCm2PerS);

        // theta: sqrt(D) in units of the start, ln k0, E0 - start (V), alpha, R_u (scaled), slope (yScale per V), offsets.
        const int shared = 6;
        int p = shared + m;
        var theta = new double[p];
        theta[0] = 1;
        theta[1] = Math.Log(start.K0CmPerS);
        theta[2] = 0;
        theta[3] = alphaGiven ?? Math.Clamp(start.Alpha, AlphaMin, AlphaMax);
        theta[4] = resistanceGivenOhm is { } ru ? ru / rScale : Math.Max(start.ResistanceOhm / rScale, 0.05);
        theta[5] = 0;
        for (int j = 0; j < m; j++) theta[shared + j] = sweeps[j].CurrentA[sweeps[j].FitFrom] / yScale;
        var free = Enumerable.Range(0, p).Where(a => !(a == 3 && alphaGiven is not null) && !(a == 4 && resistanceGivenOhm is not null)).ToArray();
        double[] steps = [1e-5, 1e-5, 1e-6, 1e-5, 1e-5, 1e-6];
        double? tauS = settings.MeasurementBandwidthHz is { } bw ? 1 / (2 * Math.PI * bw) : null;

        Parameters Physical(double[] t) => new(Math.Pow(t[0] * sScale, 2), Math.Exp(t[1]), start.E0V + t[2], t[3], t[4] * rScale);
        void Model(double[] t, int j, double[] output)
        {
            var sw = sweeps[j];
            Simulate(sw, Physical(t), t[shared + j] * yScale, t[5] * yScale, eMid, settings, output);
            if (tauS is { } tau) LowPass(output, Math.Abs(sw.PotentialV[^1] - sw.PotentialV[0]) / Math.Max(1, sw.PotentialV.Length - 1) / sw.ScanRateVPerS, tau);
        }
        int total = sweeps.Sum(s => s.PotentialV.Length - s.FitFrom);
        var buffers = sweeps.Select(s => new double[s.PotentialV.Length]).ToArray();
        var perturbed = sweeps.Select(s => new double[s.PotentialV.Length]).ToArray();
        int n = free.Length;
        var jtj = new double[n, n];
        var jtr = new double[n];
        var column = new double[n][];

        double Cost(double[] t, bool accumulate)
        {
            if (accumulate) { Array.Clear(jtj); Array.Clear(jtr); }
            double cost = 0;
            for (int j = 0; j < m; j++)
            {
                var sw = sweeps[j];
                Model(t, j, buffers[j]);
                int length = sw.PotentialV.Length - sw.FitFrom;
                if (accumulate)
                {
                    for (int a = 0; a < n; a++)
                    {
                        int index = free[a];
                        column[a] ??= new double[sweeps.Max(s => s.PotentialV.Length)];
                        if (index >= shared && index != shared + j) { Array.Clear(column[a]); continue; }
                        double step = index < shared ? steps[index] : 1e-6;
                        double saved = t[index];
                        t[index] = saved + step;
                        Model(t, j, perturbed[j]);
                        t[index] = saved;
                        for (int q = sw.FitFrom; q < sw.PotentialV.Length; q++) column[a][q - sw.FitFrom] = (perturbed[j][q] - buffers[j][q]) / yScale / step;
                    }
                }
                for (int q = 0; q < length; q++)
                {
                    double r = (sw.CurrentA[sw.FitFrom + q] - buffers[j][sw.FitFrom + q]) / yScale;
                    cost += r * r;
                    if (!accumulate) continue;
                    for (int a = 0; a < n; a++)
                    {
                        double ja = column[a][q];
                        if (ja == 0) continue;
                        jtr[a] += ja * r;
                        for (int b = 0; b <= a; b++) jtj[a, b] += ja * column[b][q];
                    }
                }
            }
            return cost;
        }

        var (current, _) = DampedLeastSquares.Minimize(theta, free, jtj, jtr, Cost, (trial, from) =>
        {
            // Bounds by projection: D > 0, alpha within the physical range, R_u >= 0.
            if (!(trial[0] > 0)) trial[0] = 0.5 * from[0];
            trial[3] = Math.Clamp(trial[3], AlphaMin, AlphaMax);
            trial[4] = Math.Max(trial[4], 0);
            trial[1] = Math.Clamp(trial[1], Math.Log(1e-9), Math.Log(1e3));
            return true;
        }, MaxIterations, 1e-10);

        var found = Physical(theta);
        double rms = Math.Sqrt(current / total) * yScale;
        if (!double.IsFinite(found.DCm2PerS) || !double.IsFinite(found.K0CmPerS) || found.E0V < eMin || found.E0V > eMax) return null;
        double cdl = double.NaN;
        if (m >= 2)
        {
            var v = sweeps.Select(sw => sw.ScanRateVPerS).ToArray();
            var charge = sweeps.Select((sw, j) => sw.Direction * theta[shared + j] * yScale).ToArray();
            if (v.Distinct().Count() >= 2) cdl = MathNet.Numerics.Fit.Line(v, charge).B;
        }
        return new SemiIntegralFitResult(found.DCm2PerS, found.K0CmPerS, found.Alpha, found.ResistanceOhm, found.E0V, rms)
        {
            AlphaFitted = alphaGiven is null,
            ResistanceFitted = resistanceGivenOhm is null,
            DoubleLayerF = cdl,
            OffsetsA = Enumerable.Range(0, m).Select(j => theta[shared + j] * yScale).ToArray(),
            SlopeAPerV = theta[5] * yScale,
            MidPotentialV = eMid,
        };
    }

    /// <summary>First-order low-pass in place, exact for an input that ramps linearly between samples; settled at the start.</summary>
    private static void LowPass(double[] x, double dtS, double tauS)
    {
        if (!(dtS > 0)) return;
        double decay = Math.Exp(-dtS / tauS);
        double previousIn = x[0], previousOut = x[0];
        for (int q = 1; q < x.Length; q++)
        {
            double input = x[q];
            double ramp = (input - previousIn) / dtS * tauS;
            double output = input - ramp + (previousOut - previousIn + ramp) * decay;
            previousIn = input;
            previousOut = output;
            x[q] = output;
        }
    }
}
