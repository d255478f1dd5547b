using System.Text.Json.Serialization;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Topics;

namespace Seccm.Contracts.Scan;

/// <summary>
/// The scan's topics, and the verbs of the scan service that other services use (the operator's verbs are in the
/// <c>seccm scan</c> client).
/// </summary>
public static class ScanTopics
{
    /// <summary><c>cmd/pixels</c>: <see cref="ScanPixelsCommand"/>; replies <see cref="ScanPixelsResult"/>.</summary>
    public const string PixelsVerb = "pixels";

    /// <summary><c>telemetry/progress</c>: <see cref="ScanProgress"/>, retained.</summary>
    public const string Progress = "progress";

    /// <summary><c>event/started</c>: <see cref="ScanStartedEvent"/>, retained.</summary>
    public const string Started = "started";

    /// <summary><c>event/pixel</c>: <see cref="PixelDoneEvent"/>, one per recorded pixel.</summary>
    public const string Pixel = "pixel";

    /// <summary><c>event/state</c>: <see cref="ScanStateEvent"/>.</summary>
    public const string State = "state";

    /// <summary><c>event/finished</c>: <see cref="ScanFinishedEvent"/>.</summary>
    public const string Finished = "finished";

    public static string PixelsCommandTopic(string instrument) => Topic.Command(instrument, ServiceNames.Scan, PixelsVerb);

    public static string ProgressTopic(string instrument) => Topic.Telemetry(instrument, ServiceNames.Scan, Progress);

    public static string StartedTopic(string instrument) => Topic.Event(instrument, ServiceNames.Scan, Started);

    public static string PixelTopic(string instrument) => Topic.Event(instrument, ServiceNames.Scan, Pixel);

    public static string StateTopic(string instrument) => Topic.Event(instrument, ServiceNames.Scan, State);

    public static string FinishedTopic(string instrument) => Topic.Event(instrument, ServiceNames.Scan, Finished);
}

/// <summary><c>scan/cmd/start</c>: run a recipe. <c>ScanId</c> is chosen by the service when not given.</summary>
public sealed record StartScanCommand(Recipe Recipe, string? ScanId = null) : Payload;

/// <summary>Reply to start, pause, resume, abort and status.</summary>
public sealed record ScanStatusResult(ScanProgress? Progress, string Message) : Payload;

[JsonConverter(typeof(JsonStringEnumConverter<ScanState>))]
public enum ScanState
{
    Idle,
    Starting,
    Running,
    Pausing,
    Paused,
    Completed,
    Aborted,
    Failed,
}

/// <summary>Retained <c>scan/telemetry/progress</c>: where the scan is and when it will end.</summary>
public sealed record ScanProgress(
    string ScanId,
    string RecipeName,
    ScanState State,
    int PixelsDone,
    int PixelsTotal,
    int PixelsWithoutContact,
    double? EtaS,
    string? PauseReason,
    DateTimeOffset StartedUtc,
    DateTimeOffset UpdatedUtc,
    int? CurrentPixel = null,
    double? LastDCm2PerS = null) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.ScanId(ScanId),
        Problems.Text(RecipeName, "recipeName", required: false),
        Problems.Defined(State, "state"),
        Problems.Count(PixelsDone, PixelsTotal, "pixelsDone", "pixelsTotal"),
        Problems.NonNegative(PixelsWithoutContact, "pixelsWithoutContact"),
        Problems.NonNegative(EtaS, "etaS"),
        Problems.Text(PauseReason, "pauseReason", required: false),
        CurrentPixel is { } c ? Problems.NonNegative(c, "currentPixel") : null,
        Problems.Finite(LastDCm2PerS, "lastDCm2PerS"));

    public bool IsActive => State is ScanState.Starting or ScanState.Running or ScanState.Pausing or ScanState.Paused;
}

/// <summary><c>scan/event/started</c> (retained): geometry and analysis settings for everyone who builds maps.</summary>
public sealed record ScanStartedEvent(
    string ScanId,
    Recipe Recipe,
    int Nx,
    int Ny,
    IReadOnlyList<PixelSpec> Pixels,
    DateTimeOffset StartedUtc) : Payload, IValidatable
{
    public IEnumerable<string> Validate() =>
        Problems.Of(Problems.ScanId(ScanId), Problems.GridSide(Nx, "nx"), Problems.GridSide(Ny, "ny"))
            .Concat(Problems.Each(Pixels, "pixels", p => p.Validate(Nx, Ny)));
}

/// <summary>One pixel of a scan: its index in the plan, grid position and stage coordinates.</summary>
public sealed record PixelSpec(int Index, int Ix, int Iy, double XUm, double YUm)
{
    /// <summary>The problems of this pixel in a grid of <paramref name="nx"/> x <paramref name="ny"/>.</summary>
    public IEnumerable<string> Validate(int nx, int ny) => Problems.Of(
        Problems.NonNegative(Index, "index"),
        Ix >= 0 && Ix < nx ? null : $"ix {Ix} lies outside 0-{nx - 1}",
        Iy >= 0 && Iy < ny ? null : $"iy {Iy} lies outside 0-{ny - 1}",
        Problems.Finite(XUm, "xUm"),
        Problems.Finite(YUm, "yUm"));
}

/// <summary>
/// <c>scan/event/pixel</c>: a pixel is finished (measured, or recorded as no contact). <see cref="Skipped"/>: the
/// sample flags for which the recipe said to skip the pixel (its curve is not analysed), null when it was not skipped.
/// </summary>
public sealed record PixelDoneEvent(
    string ScanId,
    int Index,
    int Ix,
    int Iy,
    double XUm,
    double YUm,
    bool Contact,
    double? ContactZUm,
    DateTimeOffset TimestampUtc,
    string? Skipped = null) : Payload, IValidatable
{
    public IEnumerable<string> Validate() =>
        Problems.Of(Problems.ScanId(ScanId), Problems.NonNegative(Take, "take"), Problems.Text(Skipped, "skipped", required: false))
            .Concat(new RecordedPixel(Index, Ix, Iy, XUm, YUm, Contact, ContactZUm).Validate());

    /// <summary>
    /// Which measurement of the pixel is the one that counts (the potentiostat's take; a pixel measured again after a
    /// disturbed attempt has a later one): readers analyse the curves of this take, not an earlier one.
    /// </summary>
    public int Take { get; init; }
}

/// <summary><c>scan/event/finished</c>: the scan ended (completed or aborted); maps can be exported.</summary>
public sealed record ScanFinishedEvent(string ScanId, ScanState State, int PixelsDone, int PixelsTotal, DateTimeOffset TimestampUtc)
    : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.ScanId(ScanId), Problems.Defined(State, "state"), Problems.Count(PixelsDone, PixelsTotal, "pixelsDone", "pixelsTotal"));
}

/// <summary><c>scan/event/state</c>: paused, resumed, interlock tripped.</summary>
public sealed record ScanStateEvent(string ScanId, ScanState State, string Reason, DateTimeOffset TimestampUtc) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.ScanId(ScanId), Problems.Defined(State, "state"), Problems.Text(Reason, "reason", required: false));
}
