namespace Seccm.Electrochemistry.Analysis;

/// <summary>One peak of a sweep: position, baseline-corrected height (signed) and prominence.</summary>
public readonly record struct Peak(double PotentialV, double CurrentA, double ProminenceA);

/// <summary>What one CV yields. Currents are baseline-corrected and signed (anodic positive).</summary>
public sealed record CvPeaks(
    double ScanRateVPerS,
    double ForwardPeakPotentialV,
    double ForwardPeakCurrentA,
    double ReversePeakPotentialV,
    double ReversePeakCurrentA,
    double NoiseRmsA,
    double BaselineSlopeAPerV,
    double BaselineOffsetA,
    IReadOnlyList<Peak> ForwardPeaks,
    bool HasForwardPeak)
{
    /// <summary>Peak separation |Ep,forward - Ep,reverse|.</summary>
    public double PeakSeparationV => Math.Abs(ForwardPeakPotentialV - ReversePeakPotentialV);

    public double HalfWavePotentialV => 0.5 * (ForwardPeakPotentialV + ReversePeakPotentialV);

    /// <summary>Standard deviation the current noise gives the forward peak height (smoothing and baseline extrapolation).</summary>
    public double ForwardPeakSigmaA { get; init; }

    /// <summary>More than one wave above noise on the forward sweep (e.g. LFP below 10 mV/s).</summary>
    public bool SplitWave => ForwardPeaks.Count > 1;
}

/// <summary>Per-CV analysis: smoothing, pre-wave baseline, forward/reverse peaks, all peaks above noise.</summary>
public static class CvPeakAnalysis
{
    public static CvPeaks Analyze(CvCurve curve, AnalysisSettings settings)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentNullException.ThrowIfNull(settings);
        curve.Validate();
        var e = curve.PotentialV;
        var i = curve.CurrentA;
        int n = e.Length;
        int vertex = VertexIndex(e);
        double direction = Math.Sign(e[Math.Min(vertex, n - 1)] - e[0]);
        if (direction == 0) throw new ArgumentException($"CV at {curve.ScanRateVPerS} V/s: the potential does not move");

        double stepV = Math.Abs(e[vertex] - e[0]) / Math.Max(1, vertex);
        int half = Math.Max(2, (int)Math.Round(settings.SmoothingWindowV / 2 / Math.Max(stepV, 1e-9)));
        var smooth = new double[n];
        // Each sweep on its own: the charging current jumps at the vertex, and smoothing across it fakes a bump.
        SavitzkyGolay.Smooth(i.AsSpan(0, vertex + 1), smooth.AsSpan(0, vertex + 1), half);
        if (vertex < n - 1) SavitzkyGolay.Smooth(i.AsSpan(vertex + 1), smooth.AsSpan(vertex + 1), half);
        double noise = NoiseRms(i);

        // Baseline: straight line through the pre-wave stretch of the forward sweep, extrapolated under the wave.
        int b0 = (int)(settings.BaselineFromFraction * vertex);
        int b1 = Math.Max(b0 + 3, (int)(settings.BaselineToFraction * vertex));
        var (offset, slope) = FitLine(e.AsSpan(b0, b1 - b0), smooth.AsSpan(b0, b1 - b0));

        // Forward sweep: corrected current, sign-flipped so the wave of the forward direction is a maximum.
        int fwdLen = vertex + 1;
        var corrected = new double[fwdLen];
        for (int k = 0; k < fwdLen; k++) corrected[k] = direction * (smooth[k] - (offset + slope * e[k]));
        var peaks = FindPeaks(corrected, e, settings.ProminenceSigmas * noise, settings.MinPeakSeparationV, b1);
        int best = b1;
        for (int k = b1; k < fwdLen; k++) if (corrected[k] > corrected[best]) best = k;
        double epf = RefineVertex(e, corrected, best, out double ipf);

        // Reverse sweep: the opposite wave is a minimum of direction * current after the vertex.
        int rBest = vertex;
        for (int k = vertex; k < n; k++) if (direction * smooth[k] < direction * smooth[rBest]) rBest = k;
        double ipr = smooth[rBest] - (offset + slope * e[rBest]);
        double epr = e[rBest];
        if (rBest > vertex && rBest < n - 1)
        {
            var tmp = new[] { -direction * smooth[rBest - 1], -direction * smooth[rBest], -direction * smooth[rBest + 1] };
            epr = RefineVertex([e[rBest - 1], e[rBest], e[rBest + 1]], tmp, 1, out _);
        }

        var signedPeaks = peaks.Select(p => p with { CurrentA = direction * p.CurrentA }).ToArray();
        bool hasPeak = peaks.Count > 0 && best > b1 && best < fwdLen - 1;
        // A quadratic Savitzky-Golay output has the variance of its input times its centre weight.
        int m = Math.Min(half, vertex / 2);
        double centreWeight = m >= 1 ? 3.0 * (3.0 * m * m + 3 * m - 1) / ((4.0 * m * m - 1) * (2 * m + 3)) : 1;
        return new CvPeaks(curve.ScanRateVPerS, epf, direction * ipf, epr, ipr, noise, slope, offset, signedPeaks, hasPeak)
        {
            ForwardPeakSigmaA = noise * Math.Sqrt(centreWeight + BaselineVarianceFactor(e.AsSpan(b0, b1 - b0), epf)),
        };
    }

    /// <summary>Index of the first turning point of the potential (end of the forward sweep).</summary>
    internal static int VertexIndex(double[] e)
    {
        int n = e.Length;
        double dir = 0;
        for (int k = 1; k < n; k++)
        {
            double d = e[k] - e[k - 1];
            if (d == 0) continue;
            if (dir == 0) dir = Math.Sign(d);
            else if (Math.Sign(d) != dir) return k - 1;
        }
        return n - 1;
    }

    /// <summary>Noise rms from the median absolute first difference: insensitive to the smooth signal and to outliers.</summary>
    internal static double NoiseRms(double[] i)
    {
        var d = new double[i.Length - 1];
        for (int k = 0; k < d.Length; k++) d[k] = Math.Abs(i[k + 1] - i[k]);
        Array.Sort(d);
        double median = d[d.Length / 2];
        // |x1 - x2| of two N(0, s) samples has median 0.6745 * sqrt(2) * s.
        return median / (0.6745 * Math.Sqrt(2));
    }

    /// <summary>Variance of a straight-line fit through white noise of unit variance, extrapolated to <paramref name="atV"/>.</summary>
    private static double BaselineVarianceFactor(ReadOnlySpan<double> e, double atV)
    {
        double mean = 0;
        foreach (double v in e) mean += v;
        mean /= e.Length;
        double sxx = 0;
        foreach (double v in e) sxx += (v - mean) * (v - mean);
        return 1.0 / e.Length + (sxx > 0 ? (atV - mean) * (atV - mean) / sxx : 0);
    }

    internal static (double Offset, double Slope) FitLine(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double mx = 0, my = 0;
        for (int k = 0; k < x.Length; k++) { mx += x[k]; my += y[k]; }
        mx /= x.Length; my /= x.Length;
        double sxx = 0, sxy = 0;
        for (int k = 0; k < x.Length; k++) { sxx += (x[k] - mx) * (x[k] - mx); sxy += (x[k] - mx) * (y[k] - my); }
        double slope = sxx > 0 ? sxy / sxx : 0;
        return (my - slope * mx, slope);
    }

    /// <summary>Parabola through the sample at <paramref name="k"/> and its neighbours: sub-step peak position and height.</summary>
    private static double RefineVertex(double[] e, double[] y, int k, out double height)
    {
        height = y[k];
        if (k <= 0 || k >= y.Length - 1) return e[k];
        double den = y[k - 1] - 2 * y[k] + y[k + 1];
        if (den >= 0) return e[k];
        double shift = 0.5 * (y[k - 1] - y[k + 1]) / den;
        height = y[k] - 0.25 * (y[k - 1] - y[k + 1]) * shift;
        return e[k] + shift * (e[k + 1] - e[k]);
    }

    /// <summary>Local maxima whose topographic prominence exceeds <paramref name="minProminence"/>, at least <paramref name="minSeparationV"/> apart.</summary>
    internal static List<Peak> FindPeaks(double[] y, double[] e, double minProminence, double minSeparationV, int from)
    {
        var found = new List<Peak>();
        int n = y.Length;
        for (int k = Math.Max(from, 1); k < n - 1; k++)
        {
            if (!(y[k] > y[k - 1] && y[k] >= y[k + 1])) continue;
            double leftMin = y[k], rightMin = y[k];
            int l = k - 1;
            for (; l >= 0 && y[l] <= y[k]; l--) leftMin = Math.Min(leftMin, y[l]);
            if (l < 0) leftMin = Math.Min(leftMin, 0);
            int r = k + 1;
            for (; r < n && y[r] <= y[k]; r++) rightMin = Math.Min(rightMin, y[r]);
            // A sweep that ends on the diffusion tail of its highest wave has not come back down to the baseline
            // yet; the tail would otherwise cap the prominence of a clear but broad (slow-kinetics) wave.
            if (r >= n) rightMin = Math.Min(rightMin, 0);
            double prominence = y[k] - Math.Max(leftMin, rightMin);
            if (prominence < minProminence) continue;
            found.Add(new Peak(e[k], y[k], prominence));
        }
        // Keep the more prominent of two peaks closer than the separation limit.
        found.Sort((a, b) => b.ProminenceA.CompareTo(a.ProminenceA));
        var kept = new List<Peak>();
        foreach (var p in found)
            if (kept.All(q => Math.Abs(q.PotentialV - p.PotentialV) >= minSeparationV)) kept.Add(p);
        kept.Sort((a, b) => a.PotentialV.CompareTo(b.PotentialV) * Math.Sign(e[^1] - e[0]));
        return kept;
    }
}
