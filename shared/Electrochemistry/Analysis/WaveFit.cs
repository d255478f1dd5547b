namespace Seccm.Electrochemistry.Analysis;

/// <summary>What the joint fit of a pixel's forward sweeps found.</summary>
internal readonly record struct WaveFitResult(double DCm2PerS, double K0CmPerS, double E0V, double ResidualRmsA, int Iterations)
{
    /// <summary>C_dl from the sweeps' constant baselines against v (charging current C_dl v), F; NaN with one rate.</summary>
    public double DoubleLayerF { get; init; } = double.NaN;

    /// <summary>The residual is far above the noise: the model does not describe these waves.</summary>
    public bool Misfit { get; init; }

    /// <summary>The residual stands above the noise (three sigmas, and a small share of the peak): something the model lacks is in the waves.</summary>
    public bool AboveNoise { get; init; }
}

/// <summary>
/// Fits the forward sweeps of all rates of one pixel at once with the Butler-Volmer sweep model
/// (<see cref="SweepTemplate"/>): one D, one k0 and one E0 shared by every rate, a constant baseline per sweep
/// (leakage offset plus C_dl v) and one leakage slope shared by all. Every sample of every wave carries
/// information, so the noise of D falls far below that of a peak maximum, and the kinetics need no dEp.
/// </summary>
internal static class WaveFit
{
    private const int MaxIterations = 60;

    /// <summary>One forward sweep: potentials and currents from the end of the start transient to the vertex.</summary>
    internal readonly record struct Sweep(double ScanRateVPerS, double[] PotentialV, double[] CurrentA, double Direction);

    /// <summary>Null when the fit does not converge to a physical answer (the caller keeps Randles-Sevcik).</summary>
    internal static WaveFitResult? Fit(IReadOnlyList<Sweep> sweeps, AnalysisSettings settings, double e0GuessV, double lnLambda1GuessPerSqrtVPerS, double dGuessCm2PerS)
    {
        int m = sweeps.Count;
        if (m == 0 || !(dGuessCm2PerS > 0) || !double.IsFinite(e0GuessV)) return null;
        double f = PhysicalConstants.FOverRtPerV(settings.N, settings.TemperatureK);
        double kScale = settings.N * PhysicalConstants.FaradayCPerMol * settings.EffectiveAreaCm2 * settings.ConcentrationMolCm3 * Math.Sqrt(f);
        int total = sweeps.Sum(s => s.PotentialV.Length);
        double eMin = sweeps.Min(s => s.PotentialV.Min()), eMax = sweeps.Max(s => s.PotentialV.Max());
        double eMid = 0.5 * (eMin + eMax);
        // Currents in units of the largest one keep the normal equations well scaled.
        double yScale = sweeps.Max(s => s.CurrentA.Max(Math.Abs));
        if (!(yScale > 0)) return null;

        // theta: [sqrt(D) in units of the guess, ln Lambda at 1 V/s, E0 - guess (V), slope (per V), offsets per sweep].
        int p = 4 + m;
        var theta = new double[p];
        double sScale = Math.Sqrt(dGuessCm2PerS);
        theta[0] = 1;
        theta[1] = lnLambda1GuessPerSqrtVPerS;
        theta[2] = 0;
        for (int j = 0; j < m; j++) theta[4 + j] = sweeps[j].CurrentA[0] / yScale;

        var jac = new double[p];
        var jtj = new double[p, p];
        var jtr = new double[p];
        // The recorded current passed the amplifier's low-pass: the model passes the same filter (it is linear, so
        // the Jacobian columns pass it too). Without this a fast sweep's lower, later peak reads as a smaller D.
        double? tauS = settings.MeasurementBandwidthHz is { } bw ? 1 / (2 * Math.PI * bw) : null;
        var rawPrev = new double[p + 1];
        var outPrev = new double[p + 1];
        var raw = new double[p + 1];
        double Cost(double[] t, bool accumulate)
        {
            if (accumulate) { Array.Clear(jtj); Array.Clear(jtr); }
            double cost = 0;
            for (int j = 0; j < m; j++)
            {
                var sw = sweeps[j];
                double k = kScale * Math.Sqrt(sw.ScanRateVPerS) * sScale / yScale;
                double lnLambda = t[1] - 0.5 * Math.Log(sw.ScanRateVPerS) - Math.Log(t[0]);
                double dtS = sw.PotentialV.Length > 1 ? Math.Abs(sw.PotentialV[1] - sw.PotentialV[0]) / sw.ScanRateVPerS : 0;
                double decay = tauS is { } tau0 && dtS > 0 ? Math.Exp(-dtS / tau0) : 0;
                for (int q = 0; q < sw.PotentialV.Length; q++)
                {
                    double e = sw.PotentialV[q];
                    double u = sw.Direction * f * (e - e0GuessV - t[2]);
                    var (chi, dChiDu, dChiDl) = SweepTemplate.Evaluate(u, lnLambda);
                    Array.Clear(raw);
                    raw[p] = t[4 + j] + t[3] * (e - eMid) + sw.Direction * t[0] * k * chi;
                    // ln Lambda depends on sqrt(D) too: Lambda = k0 / sqrt(D f v).
                    raw[0] = sw.Direction * k * (chi - dChiDl);
                    raw[1] = sw.Direction * t[0] * k * dChiDl;
                    raw[2] = -t[0] * k * dChiDu * f;
                    raw[3] = e - eMid;
                    raw[4 + j] = 1;
                    if (tauS is { } tau && dtS > 0)
                    {
                        // First-order low-pass, exact for an input that ramps linearly between samples; the sweep starts settled.
                        for (int a = 0; a <= p; a++)
                        {
                            double x = raw[a];
                            double y = q == 0 ? x : x - (x - rawPrev[a]) / dtS * tau + (outPrev[a] - rawPrev[a] + (x - rawPrev[a]) / dtS * tau) * decay;
                            rawPrev[a] = x;
                            outPrev[a] = y;
                            raw[a] = y;
                        }
                    }
                    double model = raw[p];
                    double r = sw.CurrentA[q] / yScale - model;
                    cost += r * r;
                    if (!accumulate) continue;
                    Array.Copy(raw, jac, p);
                    for (int a = 0; a < p; a++)
                    {
                        if (jac[a] == 0) continue;
                        jtr[a] += jac[a] * r;
                        for (int b = 0; b <= a; b++) jtj[a, b] += jac[a] * jac[b];
                    }
                }
            }
            return cost;
        }

        double lambda = 1e-3;
        double current = Cost(theta, accumulate: true);
        int iteration = 0;
        var trial = new double[p];
        for (; iteration < MaxIterations; iteration++)
        {
            for (int a = 0; a < p; a++) for (int b = 0; b < a; b++) jtj[b, a] = jtj[a, b];
            bool improved = false;
            double[]? step = null;
            while (lambda < 1e12)
            {
                step = SolveDamped(jtj, jtr, lambda);
                if (step is null) { lambda *= 10; continue; }
                for (int a = 0; a < p; a++) trial[a] = theta[a] + step[a];
                if (!(trial[0] > 0)) { lambda *= 10; continue; }
                double c = Cost(trial, accumulate: false);
                if (c < current)
                {
                    improved = true;
                    Array.Copy(trial, theta, p);
                    double previous = current;
                    current = Cost(theta, accumulate: true);
                    lambda = Math.Max(lambda / 10, 1e-9);
                    // D to 1e-4 needs the cost settled to far less than that; 1e-9 stops the last, idle iterations.
                    if (previous - current < 1e-9 * previous) iteration = MaxIterations;
                    break;
                }
                lambda *= 10;
            }
            if (!improved || step is null) break;
        }

        double sqrtD = theta[0] * sScale;
        double d = sqrtD * sqrtD;
        double k0 = Math.Exp(theta[1]) * sScale * Math.Sqrt(f);
        double e0 = e0GuessV + theta[2];
        double rms = Math.Sqrt(current / total) * yScale;
        if (!double.IsFinite(d) || !double.IsFinite(k0) || e0 < eMin || e0 > eMax) return null;
        // Outside the tabulated kinetics the model cannot follow the wave: not a fit to trust.
        foreach (var sw in sweeps)
        {
            double lnLambda = theta[1] - 0.5 * Math.Log(sw.ScanRateVPerS) - Math.Log(theta[0]);
            if (lnLambda < SweepTemplate.LnLambdaMin - 0.5) return null;
        }
        // Each sweep's constant baseline is leakage at mid-window plus C_dl v in the sweep's direction.
        double cdl = double.NaN;
        if (m >= 2)
        {
            var v = sweeps.Select(sw => sw.ScanRateVPerS).ToArray();
            var charge = sweeps.Select((sw, j) => sw.Direction * theta[4 + j] * yScale).ToArray();
            if (v.Distinct().Count() >= 2) cdl = MathNet.Numerics.Fit.Line(v, charge).B;
        }
        return new WaveFitResult(d, k0, e0, rms, iteration) { DoubleLayerF = cdl };
    }

    /// <summary>Solves (JtJ + lambda diag(JtJ)) x = Jtr by Cholesky on the diagonally scaled system; null if not positive definite.</summary>
    internal static double[]? SolveDamped(double[,] jtj, double[] jtr, double lambda)
    {
        int p = jtr.Length;
        var scale = new double[p];
        for (int a = 0; a < p; a++) scale[a] = jtj[a, a] > 0 ? 1 / Math.Sqrt(jtj[a, a]) : 1;
        var l = new double[p, p];
        for (int a = 0; a < p; a++)
        {
            for (int b = 0; b <= a; b++)
            {
                double sum = jtj[a, b] * scale[a] * scale[b] + (a == b ? lambda * (jtj[a, a] > 0 ? 1 : 1e-12) : 0);
                for (int c = 0; c < b; c++) sum -= l[a, c] * l[b, c];
                if (a == b)
                {
                    if (!(sum > 0)) return null;
                    l[a, a] = Math.Sqrt(sum);
                }
                else l[a, b] = sum / l[b, b];
            }
        }
        var y = new double[p];
        for (int a = 0; a < p; a++)
        {
            double sum = jtr[a] * scale[a];
            for (int c = 0; c < a; c++) sum -= l[a, c] * y[c];
            y[a] = sum / l[a, a];
        }
        var x = new double[p];
        for (int a = p - 1; a >= 0; a--)
        {
            double sum = y[a];
            for (int c = a + 1; c < p; c++) sum -= l[c, a] * x[c];
            x[a] = sum / l[a, a];
        }
        for (int a = 0; a < p; a++) x[a] *= scale[a];
        return x;
    }
}
