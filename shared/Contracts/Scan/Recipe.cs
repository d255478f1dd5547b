using System.Text.Json.Serialization;
using Seccm.Contracts.Messages;

namespace Seccm.Contracts.Scan;

/// <summary>
/// An imaging experiment: where, which pixels, how to approach, what to measure at each pixel.
/// Lengths in um, potentials in V vs the Li quasi-reference, currents in A, times in s.
/// </summary>
public sealed record Recipe(
    string Name,
    GridSpec? Grid = null,
    IReadOnlyList<PointSpec>? Points = null,
    PointSpec? Origin = null,
    RasterOrder Raster = RasterOrder.Snake,
    TechniqueSpec? Technique = null,
    ApproachSpec? Approach = null,
    double RetractUm = 1.0,
    double SettleS = 0.05,
    GloveboxLimits? Glovebox = null,
    int CheckpointEveryPixels = 1,
    bool AutoResume = true,
    string? Sample = null,
    string? Instrument = null,
    AnalysisSpec? Analysis = null,
    string? Description = null) : Payload;

[JsonConverter(typeof(JsonStringEnumConverter<RasterOrder>))]
public enum RasterOrder
{
    Snake,
    Row,
}

/// <summary>A regular grid of <c>Nx x Ny</c> pixels, <c>PitchUm</c> apart, starting at the origin.</summary>
public sealed record GridSpec(int Nx, int Ny, double PitchUm);

public sealed record PointSpec(double XUm, double YUm);

[JsonConverter(typeof(JsonStringEnumConverter<TechniqueKind>))]
public enum TechniqueKind
{
    /// <summary>Cyclic voltammograms at several scan rates at every pixel (D maps).</summary>
    Cv,

    /// <summary>Hold at one potential and record the current (current maps).</summary>
    Hold,

    /// <summary>Galvanostatic charge/discharge at every pixel (usually one big-pipette spot).</summary>
    ChargeDischarge,
}

/// <summary>
/// What each pixel measures. <see cref="OnInvalidSamples"/>: what the scan does with a pixel whose curve holds samples
/// the potentiostat flagged as no valid current (overload, underload, NaN): keep it flagged, measure it again (up to
/// <see cref="MaxRemeasures"/> times; the analysis keeps the latest measurement), or skip it (recorded without data).
/// </summary>
public sealed record TechniqueSpec(
    TechniqueKind Kind,
    CvSpec? Cv = null,
    HoldSpec? Hold = null,
    ChargeDischargeSpec? ChargeDischarge = null,
    InvalidSampleAction OnInvalidSamples = InvalidSampleAction.Flag,
    int MaxRemeasures = 2);

[JsonConverter(typeof(JsonStringEnumConverter<InvalidSampleAction>))]
public enum InvalidSampleAction
{
    /// <summary>Keep the curve; the pixel result carries the flags.</summary>
    Flag,

    /// <summary>Measure the pixel again, up to <see cref="TechniqueSpec.MaxRemeasures"/> times.</summary>
    Remeasure,

    /// <summary>Record the pixel as skipped: no numbers from a clipped curve.</summary>
    Skip,
}

public sealed record CvSpec(
    double StartV,
    double Vertex1V,
    double Vertex2V,
    IReadOnlyList<double> ScanRatesVPerS,
    double StepV = 0.001,
    int Cycles = 1);

public sealed record HoldSpec(double PotentialV, double DurationS, double IntervalS = 0.001);

public sealed record ChargeDischargeSpec(
    double ChargeCurrentA,
    double DischargeCurrentA,
    double UpperCutoffV,
    double LowerCutoffV,
    int Cycles = 1,
    double MaxDurationS = 3600,
    double IntervalS = 1);

/// <summary>How the pipette finds the surface: potentiostat holds <c>BiasV</c>, stage descends until |i| &gt; threshold.</summary>
public sealed record ApproachSpec(
    double SpeedUmPerS = 1.0,
    double MaxTravelUm = 5.0,
    double ContactThresholdA = 2e-12,
    double BiasV = 1.3,
    double StartZUm = 2.0);

/// <summary>The atmosphere a scan needs; stricter than the glovebox's own alarms if set.</summary>
public sealed record GloveboxLimits(double MaxO2Ppm = 10, double MaxH2oPpm = 10);

/// <summary>What the analysis needs to turn currents into D (Randles-Sevcik).</summary>
public sealed record AnalysisSpec(
    double RadiusNm = 55,
    double ConcentrationMolCm3 = 0.0227,
    int N = 1,
    double TemperatureK = 298.15,
    double? AreaCm2 = null);
