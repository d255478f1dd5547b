using MathNet.Numerics;

namespace Seccm.Electrochemistry.Analysis;

/// <summary>Why a pixel's D should be read with care.</summary>
[Flags]
public enum PixelFlags
{
    None = 0,
    /// <summary>Slow rates where ip grows faster than sqrt(v) (film converted: thin-layer regime) were left out.</summary>
    ThinLayer = 1,
    /// <summary>Quasi-reversible kinetics (dEp above ~80 mV): ip was corrected for the kinetic factor.</summary>
    Kinetic = 2,
    /// <summary>ip is not linear in sqrt(v) over the rates used (R^2 below the limit).</summary>
    NonLinear = 4,
    /// <summary>More than one wave on a forward sweep.</summary>
    SplitWave = 8,
    /// <summary>No wave above noise on some curve (bare substrate, lost contact): D is NaN.</summary>
    NoPeak = 16,
    /// <summary>Fewer than two usable rates: D is NaN.</summary>
    TooFewRates = 32,
    /// <summary>Fast rates where ip grows slower than sqrt(v) were left out.</summary>
    Saturated = 64,
    /// <summary>The wave model does not follow the measured waves (residual far above the noise), or D moves with v: <c>d_cm2_s</c> is doubtful.</summary>
    ModelMisfit = 128,
    /// <summary>Slow rates whose ip stands above the sqrt(v) line of the faster ones (convection, edge diffusion) were left out.</summary>
    SlowExcess = 256,
    /// <summary>
    /// R_u was fitted from rates spanning less than <see cref="PixelAnalysis.MinRateSpanToFitResistance"/>x: its iR shift (~sqrt v)
    /// and the kinetic one (~ln v) are not told apart over so few rates, so D rests on an R_u the data do not fix; give R_u.
    /// </summary>
    IrUndetermined = 512,
}

/// <summary>Which flags say the number is doubtful (warnings) and which only say what was done (information).</summary>
public static class PixelFlagKinds
{
    public const PixelFlags Warnings = PixelFlags.NonLinear | PixelFlags.SplitWave | PixelFlags.NoPeak | PixelFlags.TooFewRates | PixelFlags.ModelMisfit | PixelFlags.IrUndetermined;
    public const PixelFlags Information = PixelFlags.ThinLayer | PixelFlags.Kinetic | PixelFlags.Saturated | PixelFlags.SlowExcess;

    /// <summary>"ok" or the names joined with '|', lower case.</summary>
    public static string Text(PixelFlags flags) =>
        flags == PixelFlags.None ? "ok" : flags.ToString().Replace(", ", "|", StringComparison.Ordinal).ToLowerInvariant();
}

/// <summary>Names of the model that gave <see cref="PixelResult.DCm2PerS"/>.</summary>
public static class DiffusionMethods
{
    /// <summary>Joint fit of the forward waves of all rates with the Butler-Volmer sweep model (D, k0, E0 shared).</summary>
    public const string WaveFit = "bv_wave_fit";
    /// <summary>
    /// Joint fit of the forward waves with Butler-Volmer kinetics (k0, alpha) and uncompensated resistance solved exactly
    /// through the semi-integral, the electrode at E - R_u i; R_u and alpha fitted or given (<see cref="PixelResult.UncompensatedResistanceOhm"/>).
    /// </summary>
    public const string SemiIntegralFit = "bv_ir_semi_integral_fit";
    /// <summary>Randles-Sevcik on peak currents divided by Nicholson's kinetic peak-height factor for their dEp.</summary>
    public const string KineticRandlesSevcik = "rs_kinetic_corrected";
    /// <summary>Plain Randles-Sevcik (the couple is reversible).</summary>
    public const string RandlesSevcik = "randles_sevcik";
}

/// <summary>
/// Result for one pixel. <see cref="DCm2PerS"/> is the best estimate (from <see cref="Method"/>); <see cref="DRsCm2PerS"/>
/// the paper's method: plain Randles-Sevcik on the forward peak currents over the linear range, with
/// <see cref="RSquared"/>, <see cref="SlopeAPerSqrtVPerS"/> and <see cref="RatesUsedVPerS"/> of that fit.
/// </summary>
public sealed record PixelResult(
    double DCm2PerS,
    double RSquared,
    int RatesUsed,
    IReadOnlyList<double> RatesUsedVPerS,
    double SlopeAPerSqrtVPerS,
    double InterceptA,
    double K0CmPerS,
    PixelFlags Flags,
    IReadOnlyList<CvPeaks> Curves)
{
    /// <summary>Randles-Sevcik D of the plain peak currents over their linear range (NaN when there is none).</summary>
    public double DRsCm2PerS { get; init; } = double.NaN;

    /// <summary>Which model gave <see cref="DCm2PerS"/> (<see cref="DiffusionMethods"/>); empty when there is no D.</summary>
    public string Method { get; init; } = "";

    /// <summary>Cathodic transfer coefficient the kinetic model used: fitted by <see cref="DiffusionMethods.SemiIntegralFit"/> unless given, 0.5 otherwise.</summary>
    public double Alpha { get; init; } = double.NaN;

    /// <summary>Double-layer capacitance from the sweeps' baselines (their charging current against v), F; NaN when not fitted.</summary>
    public double DoubleLayerF { get; init; } = double.NaN;

    /// <summary>Uncompensated resistance of the model that gave D, ohm: fitted or given; NaN when the model had none (R_u i taken as negligible).</summary>
    public double UncompensatedResistanceOhm { get; init; } = double.NaN;

    /// <summary>The rates whose waves the model of <see cref="Method"/> was fitted to (for Randles-Sevcik: <see cref="RatesUsedVPerS"/>).</summary>
    public IReadOnlyList<double> ModelRatesVPerS { get; init; } = [];

    /// <summary>Rates left out of the Randles-Sevcik fit and why ("" when none): e.g. "20 V/s: ip 7% below the sqrt(v) line".</summary>
    public string RatesDropped { get; init; } = "";

    /// <summary>Warnings as text for files: "ok" or names joined with '|', lower case. Information flags are in <see cref="InfoText"/>.</summary>
    public string FlagText => PixelFlagKinds.Text(Flags & PixelFlagKinds.Warnings);

    /// <summary>Information flags ("" when none): what the analysis did, not a doubt about the number.</summary>
    public string InfoText => (Flags & PixelFlagKinds.Information) == PixelFlags.None ? "" : PixelFlagKinds.Text(Flags & PixelFlagKinds.Information);

    /// <summary>True when a warning flag is set.</summary>
    public bool HasWarning => (Flags & PixelFlagKinds.Warnings) != PixelFlags.None;

    /// <summary>
    /// The pixel's dEp (maps' <c>dep_v</c>, the pixel result's <c>deltaEpV</c>): the peak separation at the fastest rate
    /// of the Randles-Sevcik line, else at the fastest rate that has one; NaN when no rate has one.
    /// </summary>
    public double DeltaEpAtFastestUsedV
    {
        get
        {
            var withSeparation = Curves.Where(c => c.HasForwardPeak && double.IsFinite(c.PeakSeparationV)).ToArray();
            if (withSeparation.Length == 0)
            {
                return double.NaN;
            }
            var fastestUsed = RatesUsedVPerS.Count > 0 ? RatesUsedVPerS.Max() : double.NaN;
            return (withSeparation.LastOrDefault(c => c.ScanRateVPerS == fastestUsed) ?? withSeparation.MaxBy(c => c.ScanRateVPerS)!).PeakSeparationV;
        }
    }
}

/// <summary>
/// Per-pixel analysis, callable as soon as the last rate of a pixel arrives. Pure and thread-safe.
/// </summary>
public static class PixelAnalysis
{
    /// <summary>Log-log slope of ip vs v above which the slow end is thin-layer-like (1 for a thin layer, 0.5 for RS).</summary>
    private const double ThinLayerSlope = 0.7;
    /// <summary>A fast rate whose ip falls this far (relative) below the sqrt(v) line of the slower rates ends the linear range.</summary>
    internal const double FastDepartureTolerance = 0.05;
    private const double KineticPeakSeparationV = 0.08;

    public static PixelResult Analyze(IReadOnlyList<CvCurve> curvesOfOnePixel, AnalysisSettings settings)
    {
        ArgumentNullException.ThrowIfNull(curvesOfOnePixel);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var ordered = curvesOfOnePixel.OrderBy(c => c.ScanRateVPerS).ToArray();
        var peaks = ordered.Select(c => CvPeakAnalysis.Analyze(c, settings)).ToArray();
        var flags = PixelFlags.None;
        if (peaks.Any(p => p.SplitWave)) flags |= PixelFlags.SplitWave;
        if (peaks.Length < 2 || peaks.Select(p => p.ScanRateVPerS).Distinct().Count() < 2)
            return Empty(peaks, flags | PixelFlags.TooFewRates);
        if (peaks.Any(p => !p.HasForwardPeak))
            return Empty(peaks, flags | PixelFlags.NoPeak);

        var plain = new double[peaks.Length];
        var ip = new double[peaks.Length];
        for (int k = 0; k < peaks.Length; k++)
        {
            plain[k] = Math.Abs(peaks[k].ForwardPeakCurrentA);
            double sep = peaks[k].PeakSeparationV * settings.N;
            if (sep > KineticPeakSeparationV) flags |= PixelFlags.Kinetic;
            ip[k] = settings.CorrectKinetics ? plain[k] / KineticWorkingCurve.PeakCurrentFactor(sep) : plain[k];
        }

        // Linear range, judged on the kinetics-corrected peaks (a quasi-reversible wave's plain peak bends from the
        // reversible towards the irreversible height as v grows, and that is not a reason to drop a rate): trim slow rates
        // in the thin-layer regime and fast rates that saturate, each with its reason.
        int lo = 0, hi = peaks.Length - 1;
        var dropped = new List<string>();
        // A pair of rates counts only when it leaves sqrt(v) by more than its own noise allows (3 sigma): at 0.5 pA
        // the extrapolated baseline alone moves LTO peaks by several percent and their log-slope scatters by about 0.1.
        while (hi - lo >= 2 && LogSlope(peaks, ip, lo) is var exponent && exponent > Math.Max(ThinLayerSlope, 0.5 + 3 * LogSlopeSigma(peaks, ip, lo)))
        {
            dropped.Add(FormattableString.Invariant($"{peaks[lo].ScanRateVPerS:G4} V/s: thin layer (ip ~ v^{exponent:0.00} up to the next rate)"));
            lo++;
            flags |= PixelFlags.ThinLayer;
        }
        int linearEnd = LinearEnd(peaks, ip, lo, hi);
        if (linearEnd < hi && FasterRatesAgree(peaks, ip, linearEnd + 1, hi) && hi - linearEnd > linearEnd - lo + 1)
        {
            // The faster rates agree with sqrt(v) among themselves and outnumber the slower ones: it is the slow rates that
            // stand above the line (natural convection and edge diffusion add to a slow macroelectrode sweep), not the fast
            // ones that bend.
            double level = Enumerable.Range(linearEnd + 1, hi - linearEnd).Average(k => ip[k] / Math.Sqrt(peaks[k].ScanRateVPerS));
            for (int k = lo; k <= linearEnd; k++)
                dropped.Add(FormattableString.Invariant($"{peaks[k].ScanRateVPerS:G4} V/s: ip {100 * (ip[k] / Math.Sqrt(peaks[k].ScanRateVPerS) / level - 1):0.#}% above the sqrt(v) line of the faster rates"));
            lo = linearEnd + 1;
            flags |= PixelFlags.SlowExcess;
        }
        else if (linearEnd < hi)
        {
            double level = Enumerable.Range(lo, linearEnd - lo + 1).Average(k => ip[k] / Math.Sqrt(peaks[k].ScanRateVPerS));
            for (int k = linearEnd + 1; k <= hi; k++)
                dropped.Add(FormattableString.Invariant($"{peaks[k].ScanRateVPerS:G4} V/s: ip {100 * (1 - ip[k] / Math.Sqrt(peaks[k].ScanRateVPerS) / level):0.#}% below the sqrt(v) line of the slower rates"));
            hi = linearEnd;
            flags |= PixelFlags.Saturated;
        }

        int used = hi - lo + 1;
        var x = new double[used];
        var y = new double[used];
        var yPlain = new double[used];
        for (int k = 0; k < used; k++) { x[k] = Math.Sqrt(peaks[lo + k].ScanRateVPerS); y[k] = ip[lo + k]; yPlain[k] = plain[lo + k]; }
        var (intercept, slope) = Fit.Line(x, y);
        var (plainIntercept, plainSlope) = Fit.Line(x, yPlain);
        double r2 = used > 2 ? GoodnessOfFit.RSquared(x.Select(v => intercept + slope * v), y) : 1.0;
        double plainR2 = used > 2 ? GoodnessOfFit.RSquared(x.Select(v => plainIntercept + plainSlope * v), yPlain) : 1.0;
        if (used > 2 && r2 < settings.MinRSquared) flags |= PixelFlags.NonLinear;

        double fOverRt = PhysicalConstants.FOverRtPerV(settings.N, settings.TemperatureK);
        double rsFactor = 0.4463 * settings.N * PhysicalConstants.FaradayCPerMol * settings.EffectiveAreaCm2 * settings.ConcentrationMolCm3 * Math.Sqrt(fOverRt);
        double d = slope > 0 ? Math.Pow(slope / rsFactor, 2) : double.NaN;
        double dRs = plainSlope > 0 ? Math.Pow(plainSlope / rsFactor, 2) : double.NaN;
        var rates = Enumerable.Range(lo, used).Select(k => peaks[k].ScanRateVPerS).ToArray();
        var rs = new PixelResult(dRs, plainR2, used, rates, plainSlope, plainIntercept, double.NaN, flags, peaks)
        {
            ModelRatesVPerS = rates,
            DRsCm2PerS = dRs,
            RatesDropped = string.Join("; ", dropped),
            Method = double.IsFinite(dRs) ? DiffusionMethods.RandlesSevcik : "",
        };

        // The joint fit of the whole forward waves is far less noisy than peak maxima and needs no dEp; Randles-Sevcik
        // stays the answer where the one-couple model does not apply (split waves) or the fit fails.
        // The wave model takes the same rates: on real macroelectrode data the rates beyond the line carry iR drop and
        // charging the sweep model does not describe (tried: fitting every rate moved both ferricyanide sets by 10%).
        var fit = flags.HasFlag(PixelFlags.SplitWave) || !double.IsFinite(d) ? null : FitWaves(ordered, peaks, lo, hi, d, settings);
        // The sweep model knows neither iR nor an alpha other than 0.5. Where the user gave either, or the waves show what
        // it cannot follow (fast rates below the sqrt(v) line of the kinetics-corrected peaks, a residual above the noise,
        // no fit at all on a kinetic wave), the semi-integral model with R_u and alpha takes every rate but those below the slow end of the
        // linear range (thin layer, slow excess): the fast rates carry what separates iR from kinetics.
        bool given = settings.UncompensatedResistanceOhm is > 0 || settings.TransferCoefficient is { } alphaGiven && alphaGiven != SweepTemplate.Alpha;
        bool toFit = settings.UncompensatedResistanceOhm is null || settings.TransferCoefficient is null;
        bool beyondSweepModel = flags.HasFlag(PixelFlags.Saturated) || fit is { AboveNoise: true } || fit is null && flags.HasFlag(PixelFlags.Kinetic);
        if (!flags.HasFlag(PixelFlags.SplitWave) && double.IsFinite(d) && (given || toFit && beyondSweepModel)
            && FitSemiIntegral(ordered, peaks, lo, peaks.Length - 1, fit, d, settings) is { } full
            // Tried because the sweep model left something unexplained, it replaces it only where it describes the waves.
            && (given || !full.Misfit || fit is null or { Misfit: true }))
        {
            return rs with
            {
                DCm2PerS = full.DCm2PerS,
                K0CmPerS = full.K0CmPerS,
                Alpha = full.Alpha,
                UncompensatedResistanceOhm = full.UncompensatedResistanceOhm,
                DoubleLayerF = full.DoubleLayerF,
                Method = DiffusionMethods.SemiIntegralFit,
                ModelRatesVPerS = ordered[lo..].Select(c => c.ScanRateVPerS).ToArray(),
                Flags = flags | (full.Misfit ? PixelFlags.ModelMisfit : PixelFlags.None) | (full.IrUndetermined ? PixelFlags.IrUndetermined : PixelFlags.None),
            };
        }
        if (fit is { } wave)
        {
            return rs with
            {
                DCm2PerS = wave.DCm2PerS,
                K0CmPerS = wave.K0CmPerS,
                Alpha = SweepTemplate.Alpha,
                UncompensatedResistanceOhm = settings.UncompensatedResistanceOhm ?? double.NaN,
                DoubleLayerF = wave.DoubleLayerF,
                Method = DiffusionMethods.WaveFit,
                ModelRatesVPerS = rates,
                Flags = flags | (wave.Misfit ? PixelFlags.ModelMisfit : PixelFlags.None),
            };
        }
        if (!flags.HasFlag(PixelFlags.Kinetic) || !settings.CorrectKinetics) return rs;

        // k0 from Nicholson's psi at the rates where the wave is quasi-reversible (psi known well).
        var k0s = new List<double>();
        for (int k = lo; k <= hi && double.IsFinite(d); k++)
        {
            double psi = KineticWorkingCurve.PsiFromPeakSeparation(peaks[k].PeakSeparationV * settings.N);
            if (psi is > 0.05 and < 10) k0s.Add(psi * Math.Sqrt(Math.PI * d * fOverRt * peaks[k].ScanRateVPerS));
        }
        double k0 = k0s.Count > 0 ? MathNet.Numerics.Statistics.Statistics.Median(k0s) : double.NaN;
        return rs with { DCm2PerS = d, K0CmPerS = k0, Alpha = 0.5, Method = double.IsFinite(d) ? DiffusionMethods.KineticRandlesSevcik : "" };
    }

    private static WaveFitResult? FitWaves(CvCurve[] curves, CvPeaks[] peaks, int lo, int hi, double dGuessCm2PerS, AnalysisSettings settings)
    {
        var sweeps = new List<WaveFit.Sweep>();
        for (int k = lo; k <= hi; k++)
        {
            var e = curves[k].PotentialV;
            int vertex = CvPeakAnalysis.VertexIndex(e);
            // Skip the start, where a real cell still settles from the step to the start potential.
            int from = (int)(settings.BaselineFromFraction * vertex);
            double direction = Math.Sign(e[vertex] - e[0]);
            // Means over bins of at most FitBinV: the model is smooth on that scale (a bin's mean is its centre's value to
            // ~0.1% of the wave), the noise averages as before, and the fit has a fraction of the points to evaluate.
            double stepV = Math.Abs(e[vertex] - e[0]) / Math.Max(1, vertex);
            int bin = Math.Max(1, (int)Math.Floor(FitBinV / Math.Max(stepV, 1e-12) + 1e-9));
            var (binE, binI) = Bin(e.AsSpan(from, vertex + 1 - from), curves[k].CurrentA.AsSpan(from, vertex + 1 - from), bin);
            sweeps.Add(new WaveFit.Sweep(curves[k].ScanRateVPerS, binE, binI, direction));
        }
        // Start from the medians over the rates: one noisy reverse peak must not send the fit to a wrong minimum.
        var lnLambda1s = new List<double>();
        var halfWaves = new List<double>();
        for (int k = lo; k <= hi; k++)
        {
            double psi = KineticWorkingCurve.PsiFromPeakSeparation(peaks[k].PeakSeparationV * settings.N);
            double lambda = double.IsFinite(psi) ? Math.Clamp(psi * Math.Sqrt(Math.PI), 0.01, 50) : 50;
            lnLambda1s.Add(Math.Log(lambda) + 0.5 * Math.Log(peaks[k].ScanRateVPerS));
            halfWaves.Add(peaks[k].HalfWavePotentialV);
        }
        double e0 = MathNet.Numerics.Statistics.Statistics.Median(halfWaves);
        double lnLambda1 = MathNet.Numerics.Statistics.Statistics.Median(lnLambda1s);
        // Should the medians still start it in a wrong valley, kinetics a decade either side are the likely answers.
        var fit = WaveFit.Fit(sweeps, settings, e0, lnLambda1, dGuessCm2PerS)
            ?? WaveFit.Fit(sweeps, settings, e0, lnLambda1 - Math.Log(10), dGuessCm2PerS)
            ?? WaveFit.Fit(sweeps, settings, e0, lnLambda1 + Math.Log(10), dGuessCm2PerS);
        if (fit is not { } found) return null;
        double largest = Enumerable.Range(lo, hi - lo + 1).Max(k => Math.Abs(peaks[k].ForwardPeakCurrentA));
        double noise = Enumerable.Range(lo, hi - lo + 1).Max(k => peaks[k].NoiseRmsA);
        return found with
        {
            Misfit = found.ResidualRmsA > Math.Max(3 * noise, settings.MaxWaveFitResidualShare * largest),
            AboveNoise = found.ResidualRmsA > Math.Max(3 * noise, SweepModelResidualShare * largest),
        };
    }

    /// <summary>A cycle whose last current is within this share of the forward peak of its first one is taken as one of repeated cycles.</summary>
    private const double RepeatedCycleShare = 0.05;

    /// <summary>Fastest over slowest rate below which a fitted R_u is not separated from the kinetics (<see cref="PixelFlags.IrUndetermined"/>): a decade.</summary>
    public const double MinRateSpanToFitResistance = 10;

    /// <summary>A sweep-model residual above this share of the largest peak (and three noise sigmas) is more than the noise: the semi-integral model is tried.</summary>
    private const double SweepModelResidualShare = 0.005;

    /// <summary>The slower and the faster half of the rates may give D this far apart (relative) before the semi-integral fit is doubted.</summary>
    private const double MaxHalvesDisagreement = 0.25;

    private static SemiIntegralFitResult? FitSemiIntegral(CvCurve[] curves, CvPeaks[] peaks, int lo, int hi, WaveFitResult? sweepFit, double dGuessCm2PerS, AnalysisSettings settings)
    {
        var sweeps = new List<SemiIntegralFit.Sweep>();
        for (int k = lo; k <= hi; k++)
        {
            var e = curves[k].PotentialV;
            int vertex = CvPeakAnalysis.VertexIndex(e);
            int from = (int)(settings.BaselineFromFraction * vertex);
            double stepV = Math.Abs(e[vertex] - e[0]) / Math.Max(1, vertex);
            int bin = Math.Max(1, (int)Math.Floor(FitBinV / Math.Max(stepV, 1e-12) + 1e-9));
            // The model needs the sweep's whole history: binned from the first sample, compared from the end of the start transient.
            var (binE, binI) = Bin(e.AsSpan(0, vertex + 1), curves[k].CurrentA.AsSpan(0, vertex + 1), bin);
            // A cycle that ends at the current it began with is one of repeated cycles: its forward sweep starts on the
            // decaying tail of the previous cycle's reverse wave, not at rest, and the model sweeps one cycle before it.
            var i = curves[k].CurrentA;
            bool repeated = Math.Abs(i[^1] - i[0]) < RepeatedCycleShare * Math.Abs(peaks[k].ForwardPeakCurrentA);
            // Three cycles before it come close to the periodic state of a long recording (the tails decay as 1/sqrt(t)).
            double[]? previous = repeated ? Bin(e, i, bin).E is var cycle ? [.. cycle, .. cycle, .. cycle] : null : null;
            sweeps.Add(new SemiIntegralFit.Sweep(curves[k].ScanRateVPerS, binE, binI, Math.Sign(e[vertex] - e[0]), Math.Min(from / bin, binE.Length - 1), previous));
        }
        double f = PhysicalConstants.FOverRtPerV(settings.N, settings.TemperatureK);
        double e0, k0, dStart = dGuessCm2PerS;
        if (sweepFit is { } wave) (e0, k0, dStart) = (wave.E0V, wave.K0CmPerS, wave.DCm2PerS);
        else
        {
            e0 = MathNet.Numerics.Statistics.Statistics.Median(Enumerable.Range(lo, hi - lo + 1).Select(k => peaks[k].HalfWavePotentialV));
            var psis = Enumerable.Range(lo, hi - lo + 1).Select(k => (Psi: KineticWorkingCurve.PsiFromPeakSeparation(peaks[k].PeakSeparationV * settings.N), peaks[k].ScanRateVPerS))
                .Where(p => double.IsFinite(p.Psi)).Select(p => p.Psi * Math.Sqrt(Math.PI * dGuessCm2PerS * f * p.ScanRateVPerS)).ToArray();
            k0 = psis.Length > 0 ? MathNet.Numerics.Statistics.Statistics.Median(psis) : Math.Sqrt(dGuessCm2PerS * f);
        }
        var start = new SemiIntegralFit.Parameters(dStart, k0, e0, settings.TransferCoefficient ?? SweepTemplate.Alpha, settings.UncompensatedResistanceOhm ?? 0);
        var found = SemiIntegralFit.Fit(sweeps, settings, start, settings.TransferCoefficient, settings.UncompensatedResistanceOhm);
        // An alpha that runs to the edge of its range is not determined by these waves (a nearly reversible couple): 0.5 given.
        double? alphaGiven = settings.TransferCoefficient;
        if (found is { AlphaFitted: true } first && (first.Alpha <= SemiIntegralFit.AlphaMin + 1e-6 || first.Alpha >= SemiIntegralFit.AlphaMax - 1e-6))
        {
            alphaGiven = SweepTemplate.Alpha;
            found = SemiIntegralFit.Fit(sweeps, settings, start with { Alpha = SweepTemplate.Alpha }, alphaGiven, settings.UncompensatedResistanceOhm);
        }
        if (found is not { } full) return null;
        // One D for every rate is what the model claims: the slower and the faster half of the rates, fitted apart, must
        // agree. Where they do not, D moves with v (a second species in solution, convection, a film): not a number to trust.
        bool ratesDisagree = false;
        if (sweeps.Count >= 4)
        {
            int half = sweeps.Count / 2;
            var from = new SemiIntegralFit.Parameters(full.DCm2PerS, full.K0CmPerS, full.E0V, full.Alpha, full.UncompensatedResistanceOhm);
            var slow = SemiIntegralFit.Fit(sweeps.Take(half).ToList(), settings, from, alphaGiven, settings.UncompensatedResistanceOhm);
            var fast = SemiIntegralFit.Fit(sweeps.Skip(sweeps.Count - half).ToList(), settings, from, alphaGiven, settings.UncompensatedResistanceOhm);
            ratesDisagree = slow is not { } s || fast is not { } q || Math.Abs(Math.Log(s.DCm2PerS / q.DCm2PerS)) > Math.Log(1 + MaxHalvesDisagreement);
        }
        double largest = Enumerable.Range(lo, hi - lo + 1).Max(k => Math.Abs(peaks[k].ForwardPeakCurrentA));
        double noise = Enumerable.Range(lo, hi - lo + 1).Max(k => peaks[k].NoiseRmsA);
        bool irUndetermined = full.ResistanceFitted && sweeps.Max(sw => sw.ScanRateVPerS) < MinRateSpanToFitResistance * sweeps.Min(sw => sw.ScanRateVPerS);
        return full with
        {
            Misfit = ratesDisagree || full.ResidualRmsA > Math.Max(3 * noise, settings.MaxWaveFitResidualShare * largest),
            IrUndetermined = irUndetermined,
        };
    }

    /// <summary>
    /// The last rate of the sqrt(v) range, walking up from <paramref name="lo"/>: a rate ends the range when its ip / sqrt(v)
    /// falls below the mean ip / sqrt(v) of the slower rates (Randles-Sevcik: ip proportional to sqrt(v)) by more than
    /// <see cref="FastDepartureTolerance"/> and by more than three sigmas of the noise of both. Walking up, not down: the
    /// bent fast points must not lower the level they are judged against. The first two rates always stay.
    /// </summary>
    private static int LinearEnd(CvPeaks[] peaks, double[] ip, int lo, int hi)
    {
        double sum = 0, weights = 0;
        for (int k = lo; k <= hi; k++)
        {
            double sqrtV = Math.Sqrt(peaks[k].ScanRateVPerS);
            double level = ip[k] / sqrtV;
            double sigma = Math.Max(peaks[k].ForwardPeakSigmaA, 1e-3 * ip[k]) / sqrtV;
            if (k >= lo + 2 && weights > 0)
            {
                double mean = sum / weights;
                double shortfall = (mean - level) / mean;
                double noise = 3 * Math.Sqrt(sigma * sigma + 1 / weights) / mean;
                if (shortfall > Math.Max(FastDepartureTolerance, noise)) return k - 1;
            }
            // Inverse-variance weights: the noisy slow peaks must not set the level.
            double w = 1 / (sigma * sigma);
            sum += w * level;
            weights += w;
        }
        return hi;
    }

    /// <summary>Widest potential bin the wave fit averages samples over.</summary>
    private const double FitBinV = 0.004;

    private static (double[] E, double[] I) Bin(ReadOnlySpan<double> e, ReadOnlySpan<double> i, int bin)
    {
        if (bin <= 1) return (e.ToArray(), i.ToArray());
        int count = e.Length / bin;
        var be = new double[count];
        var bi = new double[count];
        for (int b = 0; b < count; b++)
        {
            double se = 0, si = 0;
            for (int q = b * bin; q < (b + 1) * bin; q++) { se += e[q]; si += i[q]; }
            be[b] = se / bin;
            bi[b] = si / bin;
        }
        return (be, bi);
    }

    /// <summary>Whether the rates from <paramref name="from"/> to <paramref name="to"/> lie on one sqrt(v) line within the tolerance.</summary>
    private static bool FasterRatesAgree(CvPeaks[] peaks, double[] ip, int from, int to)
    {
        if (to - from < 1) return false;
        var levels = Enumerable.Range(from, to - from + 1).Select(k => ip[k] / Math.Sqrt(peaks[k].ScanRateVPerS)).ToArray();
        return levels.Max() / levels.Min() - 1 < FastDepartureTolerance;
    }

    /// <summary>Standard deviation of <see cref="LogSlope"/> from the noise of the two peak heights.</summary>
    private static double LogSlopeSigma(CvPeaks[] peaks, double[] ip, int k)
    {
        double Relative(int j) => peaks[j].ForwardPeakSigmaA / ip[j];
        double a = Relative(k), b = Relative(k + 1);
        return Math.Sqrt(a * a + b * b) / Math.Log(peaks[k + 1].ScanRateVPerS / peaks[k].ScanRateVPerS);
    }

    private static double LogSlope(CvPeaks[] peaks, double[] ip, int k) =>
        Math.Log(ip[k + 1] / ip[k]) / Math.Log(peaks[k + 1].ScanRateVPerS / peaks[k].ScanRateVPerS);

    private static PixelResult Empty(CvPeaks[] peaks, PixelFlags flags) =>
        new(double.NaN, double.NaN, 0, [], double.NaN, double.NaN, double.NaN, flags, peaks);
}
