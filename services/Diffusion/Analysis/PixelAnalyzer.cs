using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Curves;
using Seccm.Electrochemistry.Analysis;

namespace Seccm.Diffusion.Analysis;

/// <summary>Turns the rebuilt curves of one pixel into its <see cref="PixelResultMessage"/>. Pure.</summary>
internal static class PixelAnalyzer
{
    public const string HoldTechnique = "hold";
    public const string NoContactFlag = "no_contact";
    public const string NoDataFlag = "no_data";
    public const string InvalidFlag = "invalid";
    public const string SkippedFlag = "skipped";

    /// <summary>The flag of a retained placeholder: a worker took the pixel on and waits for its curves (no result yet).</summary>
    public const string PendingFlag = "pending";

    public static AnalysisSettings Settings(AnalysisSpec? spec, double measurementBandwidthHz = 0, double? uncompensatedResistanceOhm = null)
    {
        spec ??= new AnalysisSpec();
        return new AnalysisSettings
        {
            AreaCm2 = spec.AreaCm2,
            RadiusNm = spec.RadiusNm,
            ConcentrationMolCm3 = spec.ConcentrationMolCm3,
            N = spec.N,
            TemperatureK = spec.TemperatureK,
            MeasurementBandwidthHz = measurementBandwidthHz > 0 ? measurementBandwidthHz : null,
            UncompensatedResistanceOhm = uncompensatedResistanceOhm,
        };
    }

    /// <summary>
    /// CVs: Randles-Sevcik over the rates (first cycle of each: the theory assumes the sweep starts from a uniform,
    /// equilibrated film). Holds: the mean current over the last <paramref name="holdTailFraction"/> of the samples,
    /// where the transient has decayed. Never throws for bad curves: the result says "invalid" and why is logged by the caller.
    /// </summary>
    public static (PixelResultMessage Result, string? Problem) Analyze(PixelDoneEvent pixel, string technique, IReadOnlyList<Curve> curves,
        AnalysisSettings settings, double holdTailFraction, string worker, DateTimeOffset now)
    {
        var (result, problem) = AnalyzeCurves(pixel, technique, curves, settings, holdTailFraction, worker, now);
        return (result with { Flags = WithSampleFlags(result.Flags, curves) }, problem);
    }

    /// <summary>
    /// A pixel whose curves hold samples the device marked as not a valid current (overload, underload, NaN) or mistimed
    /// carries those marks among its flags ("ok" gives way to them): its numbers rest on clipped or missing samples.
    /// </summary>
    private static string WithSampleFlags(string flags, IReadOnlyList<Curve> curves)
    {
        var bits = curves.Aggregate(0, (b, c) => b | c.SampleFlagBits) & (SampleFlagNames.InvalidCurrentBits | 0x1);
        if (SampleFlagNames.FromBits(bits) is not { } names)
        {
            return flags;
        }
        return flags == "ok" ? names : $"{flags}|{names}";
    }

    private static (PixelResultMessage Result, string? Problem) AnalyzeCurves(PixelDoneEvent pixel, string technique, IReadOnlyList<Curve> curves,
        AnalysisSettings settings, double holdTailFraction, string worker, DateTimeOffset now)
    {
        var empty = Empty(pixel, technique, worker, now) with { Take = curves.Count == 0 ? 0 : curves[0].Take };
        if (!pixel.Contact)
        {
            return (empty with { Flags = NoContactFlag }, null);
        }
        if (pixel.Skipped is { } skipped)
        {
            // The recipe said to skip a pixel whose curve the device flagged: no numbers from clipped samples.
            return (empty with { Flags = $"{SkippedFlag}|{skipped}" }, null);
        }
        if (curves.Count == 0)
        {
            return (empty with { Flags = NoDataFlag }, null);
        }
        if (technique == HoldTechnique)
        {
            var samples = curves.SelectMany(c => c.CurrentA).ToArray();
            var tail = Math.Max(1, (int)Math.Ceiling(samples.Length * holdTailFraction));
            var finite = samples[^tail..].Where(double.IsFinite).ToArray();
            return finite.Length == 0
                ? (empty with { Flags = NoDataFlag }, null)
                : (empty with { MeanCurrentA = finite.Average(), Flags = "ok" }, null);
        }
        var cvs = curves.Select(FirstCycle).ToArray();
        PixelResult result;
        try
        {
            result = PixelAnalysis.Analyze(cvs, settings);
        }
        catch (ArgumentException ex)
        {
            return (empty with { Flags = InvalidFlag }, ex.Message);
        }
        var peaks = result.Curves.Select(p => new CvPeakResult(
            curves.FirstOrDefault(c => c.ScanRateVPerS == p.ScanRateVPerS)?.RateIndex ?? -1,
            p.ScanRateVPerS,
            p.HasForwardPeak ? Finite(p.ForwardPeakCurrentA) : null,
            p.HasForwardPeak ? Finite(p.ForwardPeakPotentialV) : null,
            p.HasForwardPeak ? Finite(p.ReversePeakCurrentA) : null,
            p.HasForwardPeak ? Finite(p.ReversePeakPotentialV) : null,
            p.HasForwardPeak ? Finite(p.PeakSeparationV) : null,
            p.HasForwardPeak)).ToArray();
        return (empty with
        {
            DCm2PerS = Finite(result.DCm2PerS),
            DRsCm2PerS = Finite(result.DRsCm2PerS),
            Method = result.Method,
            Alpha = Finite(result.Alpha),
            DoubleLayerF = Finite(result.DoubleLayerF),
            UncompensatedResistanceOhm = Finite(result.UncompensatedResistanceOhm),
            Info = result.InfoText,
            RatesDropped = result.RatesDropped,
            RSquared = Finite(result.RSquared),
            K0CmPerS = Finite(result.K0CmPerS),
            DeltaEpV = Finite(result.DeltaEpAtFastestUsedV),
            SlopeAPerSqrtVPerS = Finite(result.SlopeAPerSqrtVPerS),
            Flags = result.FlagText,
            RatesUsed = result.RatesUsed,
            RatesUsedVPerS = result.RatesUsedVPerS,
            Peaks = peaks,
        }, null);
    }

    public static PixelResultMessage Empty(PixelDoneEvent pixel, string technique, string worker, DateTimeOffset now) =>
        new(pixel.ScanId, pixel.Index, pixel.Ix, pixel.Iy, pixel.XUm, pixel.YUm, technique, pixel.Contact,
            pixel.Contact ? pixel.ContactZUm : null, null, null, null, null, null, null, NoDataFlag, 0, [], [], worker, now);

    private static CvCurve FirstCycle(Curve c)
    {
        var n = c.SamplesPerCycle > 0 && c.Count > c.SamplesPerCycle ? c.SamplesPerCycle : c.Count;
        return new CvCurve(c.ScanRateVPerS, c.PotentialV[..n], c.CurrentA[..n]);
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
