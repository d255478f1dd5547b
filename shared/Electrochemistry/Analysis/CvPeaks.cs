using System.Buffers;
using System.Runtime.CompilerServices;

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

        // Baseline: straight line through the pre-wave stretch of the forward sweep, extrapolated under the wave. A first
        // guess of the stretch finds the wave; the stretch then ends WaveFootWidths half-widths before the peak, where a
        // Butler-Volmer wave of any kinetics is below 0.01% of its height: a stretch reaching into the foot tilts the line
        // and the peak read from it moves with the start potential.
        int fwdLen = vertex + 1;
        int b0 = (int)(settings.BaselineFromFraction * vertex);
        int b1 = Math.Max(b0 + 3, (int)(settings.BaselineToFraction * vertex));
        int minBaseline = Math.Max(5, vertex / 20);
        var corrected = new double[fwdLen];
        double offset = 0, slope = 0;
        bool flat = false;
        int best = b1;
        // The waves above noise of the corrected sweep from wavesFrom on, as the last search found them.
        List<Peak> waves = [];
        int wavesFrom = -1;
        for (int pass = 0; pass < 3; pass++)
        {
            (offset, slope) = FitLine(e.AsSpan(b0, b1 - b0), smooth.AsSpan(b0, b1 - b0));
            // A short, noisy stretch gives a slope that is mostly noise, and extrapolated half a volt it tilts the whole
            // wave (and makes a bump at the vertex look like a second wave): a slope within three of its own standard
            // errors is taken as flat.
            flat = Math.Abs(slope) * Math.Sqrt(SumOfSquares(e.AsSpan(b0, b1 - b0))) < 3 * noise;
            if (flat)
            {
                double level = 0;
                for (int k = b0; k < b1; k++) level += smooth[k];
                (offset, slope) = (level / (b1 - b0), 0);
            }
            // Forward sweep: corrected current, sign-flipped so the wave of the forward direction is a maximum.
            for (int k = 0; k < fwdLen; k++) corrected[k] = direction * (smooth[k] - (offset + slope * e[k]));
            (waves, wavesFrom) = (FindPeaks(corrected, e, settings.ProminenceSigmas * noise, settings.MinPeakSeparationV, b1), b1);
            best = MainWave(corrected, e, b1, waves);
            int halfAt = best;
            while (halfAt > b0 && corrected[halfAt] > 0.5 * corrected[best]) halfAt--;
            double footV = e[best] - direction * WaveFootWidths * Math.Abs(e[best] - e[halfAt]);
            int end = b0;
            while (end < best && direction * (e[end] - footV) <= 0) end++;
            if (end < b0 + minBaseline)
            {
                // No room before the foot for a line: a start this close to the wave began at rest, so the current of its
                // first samples is the baseline (a line through the foot would tilt into it).
                b1 = b0 + minBaseline;
                double level = 0;
                for (int k = b0; k < b1; k++) level += smooth[k];
                (offset, slope) = (level / (b1 - b0), 0);
                flat = true;
                for (int k = 0; k < fwdLen; k++) corrected[k] = direction * (smooth[k] - offset);
                (waves, wavesFrom) = (FindPeaks(corrected, e, settings.ProminenceSigmas * noise, settings.MinPeakSeparationV, b1), b1);
                best = MainWave(corrected, e, b1, waves);
                break;
            }
            if (end == b1 || end >= best) break;
            b1 = end;
        }
        // A second wave must also stand out from the first by a share of its height: on smooth real data a few-sigma ripple
        // on a single couple's diffusion tail is not a wave.
        var peaks = wavesFrom == b1 ? waves : FindPeaks(corrected, e, settings.ProminenceSigmas * noise, settings.MinPeakSeparationV, b1);
        if (peaks.Count > 1)
        {
            double strongest = peaks.Max(p => p.ProminenceA);
            peaks.RemoveAll(p => p.ProminenceA < SplitWaveMinShare * strongest);
        }
        // The height from the cubic through the raw top; the position from the smoothed wave's vertex, as the reverse
        // peak's (the cubic's stationary point wanders with the noise on a flat top: dEp at 10 mV/s read 67 mV, not 57).
        PeakTop(e, i, corrected, best, direction, offset, slope, out double ipf);
        double epf = RefineVertex(e, corrected, best, out _);

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
            // A flat baseline is a mean: no extrapolated slope adds to the peak's variance.
            ForwardPeakSigmaA = noise * Math.Sqrt(centreWeight + (flat ? 1.0 / (b1 - b0) : BaselineVarianceFactor(e.AsSpan(b0, b1 - b0), epf))),
        };
    }

    /// <summary>How far before the peak (in half-widths Ep - Ep/2) the baseline stretch ends.</summary>
    internal const double WaveFootWidths = 5;

    /// <summary>Prominence, as a share of the highest wave, a further wave needs to count.</summary>
    internal const double SplitWaveMinShare = 0.05;

    /// <summary>
    /// Height and position of the forward peak from a cubic least-squares fit to the unsmoothed, baseline-corrected samples
    /// where the smoothed wave is above 85% of its maximum: smoothing over the top of a peak lowers it, a cubic through
    /// its top follows its asymmetry (a 1 mV reversible peak to 0.05%) and averages the noise of tens of samples.
    /// </summary>
    private static double PeakTop(double[] e, double[] raw, double[] corrected, int best, double direction, double offset, double slope, out double height)
    {
        double level = 0.85 * corrected[best];
        int a = best, b = best;
        while (a > 0 && corrected[a - 1] >= level) a--;
        while (b < corrected.Length - 1 && corrected[b + 1] >= level) b++;
        int count = b - a + 1;
        if (count < 7 || !(corrected[best] > 0)) return RefineVertex(e, corrected, best, out height);
        double centre = e[best], scale = Math.Max(Math.Abs(e[b] - e[a]) / 2, 1e-12);
        Span<double> ata = stackalloc double[16];
        Span<double> aty = stackalloc double[4];
        ata.Clear(); aty.Clear();
        for (int k = a; k <= b; k++)
        {
            double x = (e[k] - centre) / scale;
            double y = direction * (raw[k] - (offset + slope * e[k]));
            double p0 = 1, p1 = x, p2 = x * x, p3 = x * x * x;
            ReadOnlySpan<double> row = [p0, p1, p2, p3];
            for (int r = 0; r < 4; r++) { aty[r] += row[r] * y; for (int c = 0; c < 4; c++) ata[r * 4 + c] += row[r] * row[c]; }
        }
        if (!SolveSymmetric4(ata, aty)) return RefineVertex(e, corrected, best, out height);
        double c0 = aty[0], c1 = aty[1], c2 = aty[2], c3 = aty[3];
        double Poly(double x) => c0 + x * (c1 + x * (c2 + x * c3));
        // Stationary points of the cubic inside the fitted stretch; the maximum among them and the stretch's ends.
        double lo = (e[a] - centre) / scale, hi = (e[b] - centre) / scale;
        if (lo > hi) (lo, hi) = (hi, lo);
        double bestX = double.NaN, bestY = double.NegativeInfinity;
        void Consider(double x) { if (x > lo && x < hi && Poly(x) > bestY && 6 * c3 * x + 2 * c2 < 0) { bestY = Poly(x); bestX = x; } }
        if (Math.Abs(c3) < 1e-12 * Math.Max(Math.Abs(c2), 1e-300)) { if (c2 < 0) Consider(-c1 / (2 * c2)); }
        else
        {
            double disc = 4 * c2 * c2 - 12 * c3 * c1;
            if (disc >= 0)
            {
                double sq = Math.Sqrt(disc);
                Consider((-2 * c2 + sq) / (6 * c3));
                Consider((-2 * c2 - sq) / (6 * c3));
            }
        }
        if (double.IsNaN(bestX)) return RefineVertex(e, corrected, best, out height);
        height = bestY;
        return centre + bestX * scale;
    }

    /// <summary>Solves a 4x4 symmetric positive definite system in place (Gaussian elimination); false when singular.</summary>
    private static bool SolveSymmetric4(Span<double> m, Span<double> rhs)
    {
        const int n = 4;
        for (int col = 0; col < n; col++)
        {
            double pivot = m[col * n + col];
            if (!(Math.Abs(pivot) > 1e-300)) return false;
            for (int r = col + 1; r < n; r++)
            {
                double factor = m[r * n + col] / pivot;
                for (int c = col; c < n; c++) m[r * n + c] -= factor * m[col * n + c];
                rhs[r] -= factor * rhs[col];
            }
        }
        for (int r = n - 1; r >= 0; r--)
        {
            double sum = rhs[r];
            for (int c = r + 1; c < n; c++) sum -= m[r * n + c] * rhs[c];
            rhs[r] = sum / m[r * n + r];
        }
        return true;
    }

    /// <summary>
    /// Index of the most prominent of <paramref name="waves"/> (<see cref="FindPeaks"/> of <paramref name="corrected"/> from
    /// <paramref name="from"/> on); the highest sample when none stands out. A rising background at the vertex (electrolyte
    /// oxidation) is higher than the wave but has no prominence.
    /// </summary>
    private static int MainWave(double[] corrected, double[] e, int from, List<Peak> waves)
    {
        int best = from;
        for (int k = from; k < corrected.Length; k++) if (corrected[k] > corrected[best]) best = k;
        if (waves.Count == 0) return best;
        var main = waves.MaxBy(p => p.ProminenceA);
        for (int k = from; k < corrected.Length; k++) if (e[k] == main.PotentialV && corrected[k] == main.CurrentA) return k;
        return best;
    }

    /// <summary>Index of the first turning point of the (finite) potential: the end of the forward sweep.</summary>
    internal static int VertexIndex(double[] e)
    {
        int n = e.Length;
        // The first step that moves sets the direction; a later one that moves the other way turned.
        double dir = 0;
        for (int k = 1; k < n; k++)
        {
            double d = e[k] - e[k - 1];
            if (d == 0) continue;
            if (dir == 0) dir = d;
            else if (d > 0 != dir > 0) return k - 1;
        }
        return n - 1;
    }

    /// <summary>Noise rms from the median absolute first difference: insensitive to the smooth signal and to outliers.</summary>
    internal static double NoiseRms(double[] i)
    {
        int count = i.Length - 1;
        var d = ArrayPool<double>.Shared.Rent(count);
        for (int k = 0; k < count; k++) d[k] = Math.Abs(i[k + 1] - i[k]);
        double median = Select(d.AsSpan(0, count), count / 2);
        ArrayPool<double>.Shared.Return(d);
        // |x1 - x2| of two N(0, s) samples has median 0.6745 * sqrt(2) * s.
        return median / (0.6745 * Math.Sqrt(2));
    }

    /// <summary>
    /// The value that would stand at <paramref name="rank"/> if <paramref name="values"/> (finite) were sorted: the median
    /// without sorting every sample. May reorder <paramref name="values"/>.
    /// </summary>
    internal static double Select(double[] values, int rank) => Select(values.AsSpan(), rank);

    private static double Select(Span<double> values, int rank)
    {
        int n = values.Length;
        if (n < BracketedSelectionFrom) return SelectByPartition(values, rank);
        // Floyd and Rivest: two values of an evenly spaced sample bracket the rank; one pass counts the values below them and
        // gathers those between, and the selection runs on the few gathered (bracketed again while they are many). Should the
        // bracket miss, it runs on all of them.
        int size = Math.Min((int)(2 * Math.Sqrt(n)), 1024);
        Span<double> sample = stackalloc double[size];
        for (int j = 0; j < size; j++) sample[j] = values[(int)((2L * j + 1) * n / (2L * size))];
        int at = (int)((long)rank * size / n);
        int margin = (int)(1.5 * Math.Sqrt(size)) + 1;
        double low = SelectByPartition(sample, Math.Max(at - margin, 0)), high = SelectByPartition(sample, Math.Min(at + margin, size - 1));
        var between = ArrayPool<double>.Shared.Rent(n);
        try
        {
            int below = 0, count = 0;
            // Without branches: which side of the bracket a noise sample falls on is a coin toss a branch would mispredict.
            foreach (double v in values)
            {
                below += Unsafe.BitCast<bool, byte>(v < low);
                between[count] = v;
                count += Unsafe.BitCast<bool, byte>(v >= low & v <= high);
            }
            if (rank < below || rank >= below + count) return SelectByPartition(values, rank);
            // Ties can fill the bracket: it is bracketed again only when that halved the work.
            var gathered = between.AsSpan(0, count);
            return 2 * count <= n ? Select(gathered, rank - below) : SelectByPartition(gathered, rank - below);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(between);
        }
    }

    /// <summary>Length from which the selection brackets the rank first.</summary>
    private const int BracketedSelectionFrom = 256;

    /// <summary>Hoare's selection with median-of-three pivots; reorders <paramref name="values"/>.</summary>
    private static double SelectByPartition(Span<double> values, int rank)
    {
        int lo = 0, hi = values.Length - 1;
        while (hi > lo)
        {
            int mid = lo + (hi - lo) / 2;
            if (values[mid] < values[lo]) (values[mid], values[lo]) = (values[lo], values[mid]);
            if (values[hi] < values[lo]) (values[hi], values[lo]) = (values[lo], values[hi]);
            if (values[hi] < values[mid]) (values[hi], values[mid]) = (values[mid], values[hi]);
            double pivot = values[mid];
            int a = lo, b = hi;
            while (a <= b)
            {
                while (values[a] < pivot) a++;
                while (values[b] > pivot) b--;
                if (a <= b)
                {
                    (values[a], values[b]) = (values[b], values[a]);
                    a++;
                    b--;
                }
            }
            // [lo, b] <= pivot <= [a, hi], and what lies between a and b equals the pivot.
            if (rank <= b) hi = b;
            else if (rank >= a) lo = a;
            else return values[rank];
        }
        return values[rank];
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

    /// <summary>Sum of squared deviations from the mean (S_xx of a line fit).</summary>
    private static double SumOfSquares(ReadOnlySpan<double> x)
    {
        double mean = 0;
        foreach (double v in x) mean += v;
        mean /= x.Length;
        double sum = 0;
        foreach (double v in x) sum += (v - mean) * (v - mean);
        return sum;
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

    /// <summary>
    /// For each sample, the lowest value met walking away from it (backwards, or forwards when not
    /// <paramref name="forward"/>) until a strictly higher sample, itself included; 0 counts too when the walk runs off
    /// the end. One pass with a stack of the samples not yet topped, each with the lowest value since the one below it.
    /// When not <paramref name="forward"/>, only the samples from <paramref name="from"/> on get a value (each depends on those after it only).
    /// </summary>
    private static void LowestBeforeHigher(double[] y, double[] lowest, double[] stack, double[] stackLowest, bool forward, int from = 0)
    {
        int n = y.Length;
        int steps = forward ? n : n - from;
        // The top of the stack in locals, the samples below it in the arrays: along a rising stretch each sample only
        // replaces the top, along a falling one it is pushed, and neither waits on what the step before it stored.
        int below = 0;
        double topY = 0, topLow = 0;
        for (int step = 0; step < steps; step++)
        {
            int k = forward ? step : n - 1 - step;
            double yk = y[k];
            double low = yk;
            if (step > 0 && topY <= yk)
            {
                low = Math.Min(low, topLow);
                while (below > 0 && stack[below - 1] <= yk) low = Math.Min(low, stackLowest[--below]);
            }
            else if (step > 0)
            {
                stack[below] = topY;
                stackLowest[below] = topLow;
                below++;
            }
            (topY, topLow) = (yk, low);
            lowest[k] = below == 0 ? Math.Min(low, 0) : low;
        }
    }

    /// <summary>Local maxima whose topographic prominence exceeds <paramref name="minProminence"/>, at least <paramref name="minSeparationV"/> apart.</summary>
    internal static List<Peak> FindPeaks(double[] y, double[] e, double minProminence, double minSeparationV, int from)
    {
        var found = new List<Peak>();
        int n = y.Length;
        // Scratch from the pool: the peak search runs several times per curve, on every core.
        var leftMin = ArrayPool<double>.Shared.Rent(n);
        var rightMin = ArrayPool<double>.Shared.Rent(n);
        var stackLowest = ArrayPool<double>.Shared.Rent(n);
        var stack = ArrayPool<double>.Shared.Rent(n);
        try
        {
            // Beyond the start the baseline is 0. A sweep that ends on the diffusion tail of its highest wave has not come back
            // down to the baseline yet; the tail would otherwise cap the prominence of a clear but broad (slow-kinetics) wave.
            int first = Math.Max(from, 1);
            LowestBeforeHigher(y, leftMin, stack, stackLowest, forward: true);
            LowestBeforeHigher(y, rightMin, stack, stackLowest, forward: false, first);
            for (int k = first; k < n - 1; k++)
            {
                if (!(y[k] > y[k - 1] && y[k] >= y[k + 1])) continue;
                double prominence = y[k] - Math.Max(leftMin[k], rightMin[k]);
                if (prominence < minProminence) continue;
                found.Add(new Peak(e[k], y[k], prominence));
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(leftMin);
            ArrayPool<double>.Shared.Return(rightMin);
            ArrayPool<double>.Shared.Return(stackLowest);
            ArrayPool<double>.Shared.Return(stack);
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
