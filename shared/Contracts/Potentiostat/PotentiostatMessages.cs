using Seccm.Contracts.Messages;
using Seccm.Contracts.Topics;

namespace Seccm.Contracts.Potentiostat;

/// <summary>Topic names and verbs of the potentiostat service.</summary>
public static class PotentiostatTopics
{
    /// <summary><c>telemetry/current</c>: <see cref="CurrentTelemetry"/>, QoS 0, a few per second.</summary>
    public const string Current = "current";

    /// <summary><c>event/contact</c>: <see cref="ContactEvent"/> when |i| crosses a hold's threshold (give it to the stage's approach as StopOnTopic).</summary>
    public const string Contact = "contact";

    /// <summary><c>event/technique-finished</c>: <see cref="TechniqueFinishedEvent"/>.</summary>
    public const string TechniqueFinished = "technique-finished";

    /// <summary><c>data/{scanId}/cv</c> and <c>data/{scanId}/hold</c>: <see cref="CurveChunk"/>, QoS 1.</summary>
    public const string CvData = "cv";
    public const string HoldData = "hold";

    /// <summary><c>data/{scanId}/cp</c>: <see cref="CurveChunk"/>s of a charge/discharge, one "rate" per half-cycle (0 charge, 1 discharge, ...).</summary>
    public const string ChargeDischargeData = "cp";

    /// <summary><c>cmd/cp</c>: <see cref="ChargeDischargeCommand"/>; replies <see cref="TechniqueFinishedEvent"/> when every half-cycle is measured and published.</summary>
    public const string ChargeDischargeVerb = "cp";

    /// <summary><c>cmd/cv</c>: <see cref="CvCommand"/>; replies <see cref="TechniqueFinishedEvent"/> when every rate is measured and published.</summary>
    public const string CvVerb = "cv";

    /// <summary>
    /// <c>cmd/hold</c>: <see cref="HoldCommand"/>. With a duration it replies <see cref="TechniqueFinishedEvent"/> at the end;
    /// without (until stopped, e.g. during an approach) it replies as soon as the hold runs, and ends with <c>abort</c>.
    /// </summary>
    public const string HoldVerb = "hold";

    /// <summary><c>cmd/abort</c>: <see cref="EmptyCommand"/>; replies <see cref="AbortResult"/>.</summary>
    public const string AbortVerb = "abort";

    /// <summary><c>cmd/cell</c>: <see cref="CellCommand"/>; replies <see cref="CellResult"/>.</summary>
    public const string CellVerb = "cell";

    /// <summary>
    /// <c>cmd/replay</c>: <see cref="ReplayCommand"/>; publishes the recorded chunks of those pixels again on their data topics
    /// and replies <see cref="ReplayResult"/> once they are handed to the broker.
    /// </summary>
    public const string ReplayVerb = "replay";

    /// <summary>
    /// <c>cmd/contact-check</c>: <see cref="ContactCheckCommand"/>; replies <see cref="ContactCheckResult"/>: whether the
    /// running contact hold saw contact at any position the stage reported up to a time of the stage's.
    /// </summary>
    public const string ContactCheckVerb = "contact-check";

    public static string CurrentTopic(string instrument) => Topic.Telemetry(instrument, ServiceNames.Potentiostat, Current);

    public static string ContactTopic(string instrument) => Topic.Event(instrument, ServiceNames.Potentiostat, Contact);

    public static string TechniqueFinishedTopic(string instrument) => Topic.Event(instrument, ServiceNames.Potentiostat, TechniqueFinished);

    public static string CvDataTopic(string instrument, string scanId) => Topic.Data(instrument, scanId, CvData);

    public static string HoldDataTopic(string instrument, string scanId) => Topic.Data(instrument, scanId, HoldData);

    public static string ChargeDischargeDataTopic(string instrument, string scanId) => Topic.Data(instrument, scanId, ChargeDischargeData);
}

/// <summary>Values of <see cref="TechniqueFinishedEvent.Outcome"/>.</summary>
public static class TechniqueOutcomes
{
    public const string Completed = "completed";
    public const string Aborted = "aborted";
    public const string Failed = "failed";
}

/// <summary>
/// <c>cmd/cv</c>: CVs at every scan rate in turn (start -> vertex 1 -> vertex 2 -> start, <see cref="Cycles"/> times),
/// published as <see cref="CurveChunk"/>s on <c>data/{scanId}/cv</c>. Limits of the device are checked before anything is applied.
/// </summary>
public sealed record CvCommand(
    string ScanId,
    int Pixel,
    double StartV,
    double Vertex1V,
    double Vertex2V,
    IReadOnlyList<double> ScanRatesVPerS,
    double StepV = 0.001,
    int Cycles = 1,
    double CurrentRangeA = 1e-9,
    double? XUm = null,
    double? YUm = null) : Payload, IValidatable
{
    public IEnumerable<string> Validate()
    {
        foreach (var problem in CurveTarget.Validate(ScanId, Pixel))
        {
            yield return problem;
        }
        foreach (var (name, v) in new[] { ("startV", StartV), ("vertex1V", Vertex1V), ("vertex2V", Vertex2V), ("stepV", StepV), ("currentRangeA", CurrentRangeA) })
        {
            if (!double.IsFinite(v))
            {
                yield return $"{name} must be a finite number, got {v}";
            }
        }
        if (ScanRatesVPerS is null || ScanRatesVPerS.Count == 0)
        {
            yield return "scanRatesVPerS must list at least one scan rate";
        }
        else if (ScanRatesVPerS.Count > 100)
        {
            yield return $"scanRatesVPerS lists {ScanRatesVPerS.Count} rates; at most 100";
        }
    }
}

/// <summary>
/// <c>cmd/hold</c>: hold <see cref="PotentialV"/>, sample every <see cref="IntervalS"/>, for <see cref="DurationS"/> or
/// until <c>abort</c> (null). With <see cref="ContactThresholdA"/>, the first sample with |i| above it publishes
/// <c>event/contact</c>. With <see cref="ScanId"/>, the samples are published on <c>data/{scanId}/hold</c>.
/// </summary>
public sealed record HoldCommand(
    double PotentialV,
    double? DurationS = null,
    double IntervalS = 0.001,
    double? ContactThresholdA = null,
    string? ScanId = null,
    int Pixel = 0,
    double CurrentRangeA = 1e-9) : Payload, IValidatable
{
    public IEnumerable<string> Validate()
    {
        if (!double.IsFinite(PotentialV))
        {
            yield return $"potentialV must be a finite number, got {PotentialV}";
        }
        if (ContactThresholdA is { } t && !(t > 0 && double.IsFinite(t)))
        {
            yield return $"contactThresholdA must be a positive current in A, got {t}";
        }
        foreach (var problem in CurveTarget.Validate(ScanId, Pixel))
        {
            yield return problem;
        }
    }
}

/// <summary>
/// <c>cmd/cp</c>: galvanostatic charge/discharge (chronopotentiometry). Charge at +|<see cref="ChargeCurrentA"/>| up to
/// <see cref="UpperCutoffV"/>, discharge at -|<see cref="DischargeCurrentA"/>| down to <see cref="LowerCutoffV"/>,
/// <see cref="Cycles"/> times, for at most <see cref="MaxDurationS"/> in all; samples every <see cref="IntervalS"/>,
/// published on <c>data/{scanId}/cp</c> with one rate index per half-cycle.
/// </summary>
public sealed record ChargeDischargeCommand(
    string ScanId,
    int Pixel,
    double ChargeCurrentA,
    double DischargeCurrentA,
    double UpperCutoffV,
    double LowerCutoffV,
    int Cycles = 1,
    double MaxDurationS = 3600,
    double IntervalS = 1,
    double CurrentRangeA = 1e-9,
    double? XUm = null,
    double? YUm = null) : Payload, IValidatable
{
    public IEnumerable<string> Validate()
    {
        foreach (var problem in CurveTarget.Validate(ScanId, Pixel))
        {
            yield return problem;
        }
        foreach (var (name, v) in new[] { ("chargeCurrentA", ChargeCurrentA), ("dischargeCurrentA", DischargeCurrentA) })
        {
            if (!double.IsFinite(v) || v == 0)
            {
                yield return $"{name} must be a non-zero current in A (its sign is ignored), got {v}";
            }
        }
        if (!double.IsFinite(UpperCutoffV) || !double.IsFinite(LowerCutoffV) || !(UpperCutoffV > LowerCutoffV))
        {
            yield return $"upperCutoffV {UpperCutoffV} must be a finite potential above lowerCutoffV {LowerCutoffV}";
        }
        if (Cycles < 1)
        {
            yield return $"cycles must be >= 1, got {Cycles}";
        }
        if (!(IntervalS > 0) || !double.IsFinite(IntervalS))
        {
            yield return $"intervalS must be a positive time in s, got {IntervalS}";
        }
        if (!(MaxDurationS >= IntervalS) || !double.IsFinite(MaxDurationS))
        {
            yield return $"maxDurationS must be at least one interval ({IntervalS} s), got {MaxDurationS}";
        }
    }
}

/// <summary><c>cmd/cell</c>: switch the cell on or off.</summary>
public sealed record CellCommand(bool On) : Payload;

/// <summary>Reply of <c>cmd/cell</c>.</summary>
public sealed record CellResult(bool On) : Payload;

/// <summary>Reply of <c>cmd/abort</c>: what was running (null when nothing was).</summary>
public sealed record AbortResult(string? AbortedTechnique) : Payload;

/// <summary>
/// A piece of a measured curve. Chunks of one rate are numbered 0..<see cref="ChunkCount"/>-1 and the last one has
/// <see cref="Last"/>; samples run from <see cref="FirstSampleIndex"/> on, so the curve rebuilds exactly. A CV sample's
/// cycle is <c>min(index / SamplesPerCycle, cycles - 1)</c>. Time restarts at 0 for every rate. A hold until stopped
/// does not know its count: <see cref="ChunkCount"/> is null except on the last chunk. <see cref="SampleFlags"/> marks
/// a chunk with samples the device flagged (<see cref="SampleFlagNames"/>, joined with '|'; null when none).
/// <see cref="Take"/> counts measurements of the same pixel (0 first): a pixel measured again replaces the earlier curves.
/// </summary>
public sealed record CurveChunk(
    string ScanId,
    int Pixel,
    string Technique,
    int RateIndex,
    int RateCount,
    double ScanRateVPerS,
    int SamplesPerCycle,
    int ChunkIndex,
    int? ChunkCount,
    bool Last,
    long FirstSampleIndex,
    DateTimeOffset StartUtc,
    double[] TimeS,
    double[] PotentialV,
    double[] CurrentA,
    string? SampleFlags = null) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.ScanId(ScanId),
        Problems.NonNegative(Pixel, "pixel"),
        Problems.Text(Technique, "technique"),
        RateCount >= 1 ? null : $"rateCount must be >= 1, got {RateCount}",
        RateIndex >= 0 && RateIndex < RateCount ? null : $"rateIndex {RateIndex} must be 0-rateCount-1 ({RateCount - 1})",
        Problems.NonNegative(ScanRateVPerS, "scanRateVPerS"),
        Problems.NonNegative(SamplesPerCycle, "samplesPerCycle"),
        Problems.NonNegative(ChunkIndex, "chunkIndex"),
        ChunkCount is not { } count || ChunkIndex < count ? null : $"chunkIndex {ChunkIndex} must be below chunkCount {ChunkCount}",
        Problems.NonNegative(FirstSampleIndex, "firstSampleIndex"),
        TimeS.Length == PotentialV.Length && TimeS.Length == CurrentA.Length ? null
            : $"timeS, potentialV and currentA must be as long as each other, got {TimeS.Length}, {PotentialV.Length}, {CurrentA.Length}",
        TimeS.All(double.IsFinite) ? null : "timeS must be finite numbers",
        Problems.Text(SampleFlags, "sampleFlags", required: false),
        Problems.NonNegative(Take, "take"));

    /// <summary>
    /// Which measurement of the pixel this is: 0 the first; a pixel measured again in the same scan, for whatever reason
    /// (the broker connection dropped during it, the device flagged its samples and the recipe asks for another), is take
    /// 1, 2, ... Readers keep the last complete take. Absent (0) from potentiostats before takes. One number: an
    /// <c>attempt</c> field (#19) counted the same measurements in the potentiostat's memory only; a message that still
    /// carries it is read without it (the take orders the measurements already).
    /// </summary>
    public int Take { get; init; }
}

/// <summary>
/// What a potentiostat said about samples (MethodSCRIPT's status bits and a <c>nan</c> value), as names joined with
/// '|' in <see cref="CurveChunk.SampleFlags"/>, <see cref="TechniqueFinishedEvent.SampleFlags"/> and pixel flags. The
/// bit values are MethodSCRIPT's status bits (0x1 timing error, 0x2 overload, 0x4 underload, 0x8 overload warning) and
/// 0x10 for NaN.
/// </summary>
public static class SampleFlagNames
{
    public const string TimingError = "timing-error";
    public const string Overload = "overload";
    public const string Underload = "underload";
    public const string OverloadWarning = "overload-warning";
    public const string NotANumber = "nan";

    private static readonly (int Bit, string Name)[] Bits =
        [(0x2, Overload), (0x4, Underload), (0x10, NotANumber), (0x1, TimingError), (0x8, OverloadWarning)];

    /// <summary>Flags whose samples are not a valid current: over or under the range, or no number at all.</summary>
    public const int InvalidCurrentBits = 0x2 | 0x4 | 0x10;

    /// <summary>"overload|nan" for 0x12; null for 0.</summary>
    public static string? FromBits(int bits) =>
        bits == 0 ? null : string.Join('|', Bits.Where(b => (bits & b.Bit) != 0).Select(b => b.Name));

    /// <summary>The bits of names joined with '|' (unknown names are ignored: a newer sender may know more).</summary>
    public static int ToBits(string? names)
    {
        var bits = 0;
        foreach (var name in (names ?? "").Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            foreach (var (bit, known) in Bits)
            {
                if (name == known)
                {
                    bits |= bit;
                }
            }
        }
        return bits;
    }
}

/// <summary>
/// <c>event/contact</c>: the current crossed the hold's contact threshold. <see cref="PipetteZUm"/>, when the driver
/// knows it, is the pipette height of the sample that crossed: the stage stops a round trip later, lower down.
/// </summary>
public sealed record ContactEvent(DateTimeOffset TimestampUtc, double CurrentA, double ThresholdA, double PotentialV, double HoldTimeS,
    double? PipetteZUm = null) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.Finite(CurrentA, "currentA"),
        Problems.Positive(ThresholdA, "thresholdA"),
        Problems.Finite(PotentialV, "potentialV"),
        Problems.NonNegative(HoldTimeS, "holdTimeS"),
        Problems.Finite(PipetteZUm, "pipetteZUm"));
}

/// <summary><c>event/technique-finished</c> and the reply of <c>cmd/cv</c> (and of a timed <c>cmd/hold</c>).</summary>
public sealed record TechniqueFinishedEvent(
    DateTimeOffset TimestampUtc,
    string Technique,
    string Outcome,
    string? ScanId,
    int Pixel,
    long Samples,
    int Chunks,
    string? Detail = null,
    string? SampleFlags = null) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.Text(Technique, "technique"),
        Problems.OneOf(Outcome, "outcome", TechniqueOutcomes.Completed, TechniqueOutcomes.Aborted, TechniqueOutcomes.Failed),
        Problems.OptionalScanId(ScanId),
        Problems.NonNegative(Pixel, "pixel"),
        Problems.NonNegative(Samples, "samples"),
        Problems.NonNegative(Chunks, "chunks"),
        Problems.Text(Detail, "detail", required: false),
        Problems.Text(SampleFlags, "sampleFlags", required: false),
        Problems.NonNegative(Take, "take"));

    /// <summary>Which measurement of the pixel this was (<see cref="CurveChunk.Take"/> of its chunks).</summary>
    public int Take { get; init; }
}

/// <summary>
/// <c>cmd/contact-check</c>: did the running contact hold see contact at any pipette position the stage reported up to
/// <see cref="StageTimeUtc"/> (a time of the stage's clock, e.g. its approach-stopped reply's)? The potentiostat answers
/// once the stage's position reports have reached that time and the hold has sampled after them, so the answer does
/// not depend on how late the position telemetry arrived.
/// </summary>
public sealed record ContactCheckCommand(DateTimeOffset StageTimeUtc) : Payload, IValidatable
{
    public IEnumerable<string> Validate()
    {
        if (StageTimeUtc == default)
        {
            yield return "stageTimeUtc is required (the stage's time up to which contact is asked)";
        }
    }
}

/// <summary>Reply of <c>cmd/contact-check</c>: <see cref="Event"/> is the hold's contact event when it saw contact.</summary>
public sealed record ContactCheckResult(bool Contact, ContactEvent? Event = null) : Payload, IValidatable
{
    public IEnumerable<string> Validate()
    {
        if (Contact != Event is not null)
        {
            yield return "contact and event must agree (an event exactly when contact is true)";
        }
        foreach (var problem in Event?.Validate() ?? [])
        {
            yield return "event: " + problem;
        }
    }
}

/// <summary>Reply of a <c>cmd/hold</c> without duration: the hold runs.</summary>
public sealed record HoldStartedResult(DateTimeOffset StartUtc, double PotentialV, double IntervalS) : Payload;

/// <summary><c>telemetry/current</c>: the latest reading and the mean since the previous telemetry.</summary>
public sealed record CurrentTelemetry(
    DateTimeOffset TimestampUtc,
    string Technique,
    bool CellOn,
    double? PotentialV,
    double? CurrentA,
    double? MeanCurrentA,
    long SamplesSinceLast) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.Text(Technique, "technique", required: false),
        Problems.Finite(PotentialV, "potentialV"),
        Problems.Finite(MeanCurrentA, "meanCurrentA"),
        Problems.NonNegative(SamplesSinceLast, "samplesSinceLast"));
}

/// <summary>
/// <c>cmd/replay</c>: publish the curves of <see cref="Pixels"/> of scan <see cref="ScanId"/> again, exactly as the first
/// time (same <see cref="CurveChunk"/> payloads and topics), from the potentiostat's raw-data file. For readers that lost
/// chunks in a broker that died; they deduplicate by (scan, pixel, rate, chunk).
/// </summary>
public sealed record ReplayCommand(string ScanId, IReadOnlyList<int> Pixels) : Payload, IValidatable
{
    /// <summary>At most this many pixels per command (a 64 x 64 map in one go, more in several).</summary>
    public const int MaxPixels = 4096;

    public IEnumerable<string> Validate()
    {
        if (Problems.ScanId(ScanId) is { } badScanId)
        {
            yield return badScanId;
        }
        if (Pixels is null || Pixels.Count == 0)
        {
            yield return "pixels must list at least one pixel index";
        }
        else if (Pixels.Count > MaxPixels)
        {
            yield return $"pixels lists {Pixels.Count} indexes; at most {MaxPixels} per command";
        }
        else if (Pixels.FirstOrDefault(p => p < 0) is var negative && negative < 0)
        {
            yield return $"pixels: index {negative} must be >= 0";
        }
    }
}

/// <summary>
/// Reply of <c>cmd/replay</c>: the pixels whose chunks were published again (<see cref="ChunksSent"/> messages in all) and
/// the ones the potentiostat has no record of (not measured here, measured before it kept raw data, or its file is gone).
/// </summary>
public sealed record ReplayResult(string ScanId, IReadOnlyList<int> Sent, int ChunksSent, IReadOnlyList<int> Missing) : Payload;

/// <summary>The checks every curve-producing command makes of where its data goes.</summary>
internal static class CurveTarget
{
    public static IEnumerable<string> Validate(string? scanId, int pixel)
    {
        if (Problems.OptionalScanId(scanId) is { } badScanId)
        {
            yield return badScanId;
        }
        if (pixel < 0)
        {
            yield return $"pixel must be >= 0, got {pixel}";
        }
    }
}

/// <summary>
/// The potentiostat's raw-curve files, in its retained status (<c>details.rawCurves</c>): what is kept, the free disk
/// space, whether it is low, and what the retention policy last reclaimed.
/// </summary>
public sealed record RawCurveStorage(
    string Directory,
    int Files,
    long Bytes,
    long? FreeBytes,
    bool SpaceLow,
    int FilesReclaimed,
    long BytesReclaimed,
    DateTimeOffset CheckedUtc) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.Text(Directory, "directory"), Problems.NonNegative(Files, "files"), Problems.NonNegative(Bytes, "bytes"),
        Problems.NonNegative(FreeBytes, "freeBytes"), Problems.NonNegative(FilesReclaimed, "filesReclaimed"),
        Problems.NonNegative(BytesReclaimed, "bytesReclaimed"));
}

/// <summary>The <c>details</c> of the potentiostat's status (as <see cref="DeviceStatusDetails"/> for the device part).</summary>
public sealed record PotentiostatStatusDetails(RawCurveStorage RawCurves) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => RawCurves is null
        ? ["rawCurves must be given"]
        : RawCurves.Validate().Select(problem => $"rawCurves.{problem}");
}
