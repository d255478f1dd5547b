using Seccm.Contracts.Messages;
using Seccm.Contracts.Topics;

namespace Seccm.Contracts.Diffusion;

/// <summary>Topic names and verbs of the diffusion service.</summary>
public static class DiffusionTopics
{
    /// <summary><c>result/{scanId}/pixel</c>: <see cref="PixelResultMessage"/>, QoS 1, one per pixel of the scan.</summary>
    public const string PixelResult = "pixel";

    /// <summary><c>result/{scanId}/map</c>: <see cref="MapUpdate"/>, QoS 0, after every pixel result.</summary>
    public const string Map = "map";

    /// <summary><c>event/exported</c>: <see cref="DiffusionExportedEvent"/> when a scan's files are written.</summary>
    public const string Exported = "exported";

    /// <summary><c>cmd/export</c>: <see cref="ExportCommand"/>; replies <see cref="DiffusionExportedEvent"/>.</summary>
    public const string ExportVerb = "export";

    public static string PixelResultTopic(string instrument, string scanId) => Topic.Result(instrument, scanId, PixelResult);

    public static string MapTopic(string instrument, string scanId) => Topic.Result(instrument, scanId, Map);

    public static string ExportedTopic(string instrument) => Topic.Event(instrument, ServiceNames.Diffusion, Exported);
}

/// <summary>
/// The analysis of one pixel. Null numbers mean "no data" (no contact, no peak, too few rates). Currents in A, potentials
/// in V, D in cm^2/s, k0 in cm/s, heights in um. <see cref="Flags"/> is "ok" or warning names joined with '|' (the number
/// is doubtful); information flags are in <see cref="Info"/>.
/// </summary>
public sealed record PixelResultMessage(
    string ScanId,
    int Index,
    int Ix,
    int Iy,
    double XUm,
    double YUm,
    string Technique,
    bool Contact,
    double? ContactZUm,
    double? DCm2PerS,
    double? RSquared,
    double? K0CmPerS,
    double? DeltaEpV,
    double? SlopeAPerSqrtVPerS,
    double? MeanCurrentA,
    string Flags,
    int RatesUsed,
    IReadOnlyList<double> RatesUsedVPerS,
    IReadOnlyList<CvPeakResult> Peaks,
    string Worker,
    DateTimeOffset TimestampUtc) : Payload, IValidatable
{
    public IEnumerable<string> Validate() =>
        Problems.Of(
                Problems.ScanId(ScanId),
                Problems.Text(Technique, "technique"),
                Problems.Finite(DCm2PerS, "dCm2PerS"),
                Problems.Finite(RSquared, "rSquared"),
                Problems.Finite(K0CmPerS, "k0CmPerS"),
                Problems.Finite(DeltaEpV, "deltaEpV"),
                Problems.Finite(SlopeAPerSqrtVPerS, "slopeAPerSqrtVPerS"),
                Problems.Finite(MeanCurrentA, "meanCurrentA"),
                Problems.Text(Flags, "flags"),
                Problems.NonNegative(RatesUsed, "ratesUsed"),
                Problems.Text(Worker, "worker", required: false),
                Problems.Finite(DRsCm2PerS, "dRsCm2PerS"),
                Problems.Finite(Alpha, "alpha"),
                Problems.NonNegative(UncompensatedResistanceOhm, "uncompensatedResistanceOhm"),
                Problems.NonNegative(Take, "take"))
            .Concat(new Seccm.Contracts.Scan.RecordedPixel(Index, Ix, Iy, XUm, YUm, Contact, ContactZUm).Validate())
            .Concat(Problems.Each(RatesUsedVPerS, "ratesUsedVPerS", r => Problems.Of(Problems.Finite(r, "rate"))))
            .Concat(Problems.Each(Peaks, "peaks", p => Problems.Of(Problems.NonNegative(p.RateIndex, "rateIndex"))));

    /// <summary>The paper's method: plain Randles-Sevcik on the forward peak currents over the linear range, cm^2/s.</summary>
    public double? DRsCm2PerS { get; init; }

    /// <summary>Which model gave <see cref="DCm2PerS"/> (the best estimate): bv_ir_semi_integral_fit, bv_wave_fit, rs_kinetic_corrected or randles_sevcik.</summary>
    public string Method { get; init; } = "";

    /// <summary>Cathodic transfer coefficient the kinetic model used (fitted by bv_ir_semi_integral_fit unless given; 0.5 otherwise).</summary>
    public double? Alpha { get; init; }

    /// <summary>Uncompensated resistance of the model that gave D, ohm, fitted or given; null when the model had none.</summary>
    public double? UncompensatedResistanceOhm { get; init; }

    /// <summary>Double-layer capacitance from the sweeps' charging currents, F (null when not fitted).</summary>
    public double? DoubleLayerF { get; init; }

    /// <summary>Information flags ("" or names joined with '|'): what was done, not a doubt about the number (that is <see cref="Flags"/>).</summary>
    public string Info { get; init; } = "";

    /// <summary>Rates left out of the Randles-Sevcik line and why ("" when none).</summary>
    public string RatesDropped { get; init; } = "";

    /// <summary>Which measurement of the pixel the curves analysed are (0 the first; a pixel measured again: its last complete take).</summary>
    public int Take { get; init; }
}

/// <summary>Peaks of one CV of a pixel: forward (ip, Ep) and reverse wave, dEp; null where no peak was found.</summary>
public sealed record CvPeakResult(
    int RateIndex,
    double ScanRateVPerS,
    double? IpA,
    double? EpV,
    double? IpReverseA,
    double? EpReverseV,
    double? DeltaEpV,
    bool HasPeak);

/// <summary><c>result/{scanId}/map</c>: progress of the map and the latest pixel's values (for live views).</summary>
public sealed record MapUpdate(
    string ScanId,
    int PixelsDone,
    int? PixelsTotal,
    int Nx,
    int Ny,
    int Index,
    int Ix,
    int Iy,
    double? DCm2PerS,
    double? MeanCurrentA,
    double? TopographyUm,
    double? MedianDCm2PerS,
    DateTimeOffset TimestampUtc) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.ScanId(ScanId),
        Problems.NonNegative(PixelsDone, "pixelsDone"),
        PixelsTotal is { } total ? Problems.NonNegative(total, "pixelsTotal") : null,
        Problems.NonNegative(Nx, "nx"),
        Problems.NonNegative(Ny, "ny"),
        Problems.NonNegative(Index, "index"),
        Problems.GridIndex(Ix, "ix"),
        Problems.GridIndex(Iy, "iy"),
        Problems.Finite(DCm2PerS, "dCm2PerS"),
        Problems.Finite(MeanCurrentA, "meanCurrentA"),
        Problems.Finite(TopographyUm, "topographyUm"),
        Problems.Finite(MedianDCm2PerS, "medianDCm2PerS"));
}

/// <summary><c>cmd/export</c>: write the files of a scan now (also done by itself when the scan finishes).</summary>
public sealed record ExportCommand(string ScanId) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(Problems.ScanId(ScanId));
}

/// <summary><c>event/exported</c> and the reply of <c>cmd/export</c>: where the files are and what the map says.</summary>
public sealed record DiffusionExportedEvent(
    string ScanId,
    string Directory,
    IReadOnlyList<string> Files,
    ExportSummary Summary,
    DateTimeOffset TimestampUtc) : Payload, IValidatable
{
    public IEnumerable<string> Validate() =>
        Problems.Of(Problems.ScanId(ScanId), Problems.Text(Directory, "directory"))
            .Concat(Problems.Each(Files, "files", f => Problems.Of(Problems.Text(f, "file"))));
}

/// <summary>Statistics of an exported map (D in cm^2/s; null when no pixel has a value). FractionFlagged counts warnings only.</summary>
public sealed record ExportSummary(
    string Technique,
    int Nx,
    int Ny,
    int Pixels,
    int PixelsWithContact,
    int PixelsWithD,
    double? MedianDCm2PerS,
    double? MeanDCm2PerS,
    double? SdDCm2PerS,
    double FractionFlagged,
    double? MeanCurrentA,
    IReadOnlyList<double> ScanRatesVPerS,
    double MeanRatesUsed)
{
    /// <summary>Median of the plain Randles-Sevcik D (the paper's method), cm^2/s.</summary>
    public double? MedianDRsCm2PerS { get; init; }
}
