using System.Runtime.InteropServices;

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

    /// <summary>
    /// Relative cost decrease below which the fit stops. The bilinear template makes the last iterations creep (each moves D
    /// by about half the previous move): at 1e-7 D lies within 2e-5 of where 1e-9 stops (64 LTO pixels), a hundredth of its
    /// noise, for a third fewer evaluations.
    /// </summary>
    private const double SettledCostShare = 1e-7;

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

        var jtj = new double[p, p];
        var jtr = new double[p];
        // The recorded current passed the amplifier's low-pass: the model passes the same filter (it is linear, so
        // the Jacobian columns pass it too). Without this a fast sweep's lower, later peak reads as a smaller D.
        double? tauS = settings.MeasurementBandwidthHz is { } bw ? 1 / (2 * Math.PI * bw) : null;
        // What does not change with theta is computed once: per sweep the time step and the filter's decay, per sample the
        // slope's column (e - eMid through the filter). A sweep's offset column is 1 throughout (a settled filter keeps a
        // constant) and the other sweeps' offset columns are 0, so only the model and the columns of D, Lambda and E0 pass
        // the filter on every evaluation.
        var dtS = new double[m];
        var decay = new double[m];
        var slopeColumn = new double[m][];
        var scaled = new double[m][];
        for (int j = 0; j < m; j++)
        {
            var sw = sweeps[j];
            dtS[j] = sw.PotentialV.Length > 1 ? Math.Abs(sw.PotentialV[1] - sw.PotentialV[0]) / sw.ScanRateVPerS : 0;
            decay[j] = tauS is { } tau0 && dtS[j] > 0 ? Math.Exp(-dtS[j] / tau0) : 0;
            var column = new double[sw.PotentialV.Length];
            var filter = new LowPass(tauS, dtS[j], decay[j]);
            for (int q = 0; q < column.Length; q++) column[q] = filter.Next(sw.PotentialV[q] - eMid, q);
            slopeColumn[j] = column;
            scaled[j] = Array.ConvertAll(sw.CurrentA, i => i / yScale);
        }
        // The loop costs a trial and, when it is accepted, costs the same theta again for its Jacobian: where the template was
        // read and the residuals of the last costed theta are kept per sample, so the second call only sums the Jacobian
        // (and a rejected trial, about half of them, never computes the template's derivatives).
        var first = new int[m + 1];
        for (int j = 0; j < m; j++) first[j + 1] = first[j] + sweeps[j].PotentialV.Length;
        var rowsOf = new SweepTemplate.Rows[m];
        var columnAt = new int[total];
        var chiAt = new double[total];
        var lowerChiAt = new double[total];
        var upperChiAt = new double[total];
        var residualAt = new double[total];
        var costed = new double[p];
        double costedCost = double.NaN;
        bool anyCosted = false;

        double Evaluate(double[] t)
        {
            double cost = 0;
            for (int j = 0; j < m; j++)
            {
                var sw = sweeps[j];
                double k = kScale * Math.Sqrt(sw.ScanRateVPerS) * sScale / yScale;
                double lnLambda = t[1] - 0.5 * Math.Log(sw.ScanRateVPerS) - Math.Log(t[0]);
                var rows = rowsOf[j] = SweepTemplate.At(lnLambda);
                var model = new LowPass(tauS, dtS[j], decay[j]);
                var e = sw.PotentialV;
                var y = scaled[j];
                double dirF = sw.Direction * f, dirT0K = sw.Direction * t[0] * k;
                double shift = t[2], baseline = t[4 + j], tilt = t[3];
                int at = first[j];
                for (int q = 0; q < e.Length; q++, at++)
                {
                    double u = dirF * (e[q] - e0GuessV - shift);
                    double chi = rows.Interpolate(u, out columnAt[at], out lowerChiAt[at], out upperChiAt[at]);
                    double r = y[q] - model.Next(baseline + tilt * (e[q] - eMid) + dirT0K * chi, q);
                    cost += r * r;
                    (chiAt[at], residualAt[at]) = (chi, r);
                }
            }
            Array.Copy(t, costed, p);
            (costedCost, anyCosted) = (cost, true);
            return cost;
        }

        double Cost(double[] t, bool accumulate)
        {
            double cost = anyCosted && MemoryMarshal.AsBytes(t.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(costed.AsSpan())) ? costedCost : Evaluate(t);
            if (!accumulate) return cost;
            Array.Clear(jtj);
            Array.Clear(jtr);
            // Sums of the shared parameters' block in locals over all sweeps, each sweep's offset row in locals over its samples.
            double r0 = 0, r1 = 0, r2 = 0, r3 = 0;
            double a00 = 0, a10 = 0, a11 = 0, a20 = 0, a21 = 0, a22 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0;
            for (int j = 0; j < m; j++)
            {
                var sw = sweeps[j];
                double k = kScale * Math.Sqrt(sw.ScanRateVPerS) * sScale / yScale;
                var dD = new LowPass(tauS, dtS[j], decay[j]);
                var dLambda = dD;
                var dE0 = dD;
                var slope = slopeColumn[j];
                var rows = rowsOf[j];
                double dirK = sw.Direction * k, dirT0K = sw.Direction * t[0] * k, minusT0K = -t[0] * k;
                double ro = 0, ao0 = 0, ao1 = 0, ao2 = 0, ao3 = 0;
                int at = first[j];
                for (int q = 0; q < slope.Length; q++, at++)
                {
                    double chi = chiAt[at], r = residualAt[at];
                    var (dChiDu, dChiDl) = rows.Derivatives(columnAt[at], lowerChiAt[at], upperChiAt[at]);
                    // ln Lambda depends on sqrt(D) too: Lambda = k0 / sqrt(D f v).
                    double j0 = dD.Next(dirK * (chi - dChiDl), q);
                    double j1 = dLambda.Next(dirT0K * dChiDl, q);
                    double j2 = dE0.Next(minusT0K * dChiDu * f, q);
                    double j3 = slope[q];
                    r0 += j0 * r;
                    r1 += j1 * r;
                    r2 += j2 * r;
                    r3 += j3 * r;
                    a00 += j0 * j0;
                    a10 += j1 * j0;
                    a11 += j1 * j1;
                    a20 += j2 * j0;
                    a21 += j2 * j1;
                    a22 += j2 * j2;
                    a30 += j3 * j0;
                    a31 += j3 * j1;
                    a32 += j3 * j2;
                    a33 += j3 * j3;
                    // The sweep's offset column is 1.
                    ro += r;
                    ao0 += j0;
                    ao1 += j1;
                    ao2 += j2;
                    ao3 += j3;
                }
                int o = 4 + j;
                jtr[o] = ro;
                (jtj[o, 0], jtj[o, 1], jtj[o, 2], jtj[o, 3], jtj[o, o]) = (ao0, ao1, ao2, ao3, slope.Length);
            }
            (jtr[0], jtr[1], jtr[2], jtr[3]) = (r0, r1, r2, r3);
            (jtj[0, 0], jtj[1, 0], jtj[1, 1], jtj[2, 0], jtj[2, 1]) = (a00, a10, a11, a20, a21);
            (jtj[2, 2], jtj[3, 0], jtj[3, 1], jtj[3, 2], jtj[3, 3]) = (a22, a30, a31, a32, a33);
            return cost;
        }

        var (current, iteration) = DampedLeastSquares.Minimize(theta, Enumerable.Range(0, p).ToArray(), jtj, jtr, Cost,
            static (trial, _) => trial[0] > 0, MaxIterations, SettledCostShare);

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

    /// <summary>
    /// First-order low-pass of one model column along a sweep, exact for an input that ramps linearly between samples; the
    /// sweep starts settled. Without a bandwidth it passes the input unchanged.
    /// </summary>
    private struct LowPass(double? tauS, double dtS, double decay)
    {
        /// <summary>The time constant, 0 when the column passes unchanged (no bandwidth, or no time step).</summary>
        private readonly double _tauS = tauS is { } tau && dtS > 0 ? tau : 0;
        private double _input, _output;

        public double Next(double x, int q)
        {
            if (_tauS == 0) return x;
            double tau = _tauS;
            double y = q == 0 ? x : x - (x - _input) / dtS * tau + (_output - _input + (x - _input) / dtS * tau) * decay;
            _input = x;
            _output = y;
            return y;
        }
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
