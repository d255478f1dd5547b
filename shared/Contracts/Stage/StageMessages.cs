using Seccm.Contracts.Messages;
using Seccm.Contracts.Topics;

namespace Seccm.Contracts.Stage;

/// <summary>
/// Topic names of the stage service. Z is the pipette height in um: larger is further from the sample, an approach
/// lowers Z, a retract raises it.
/// </summary>
public static class StageTopics
{
    /// <summary><c>telemetry/position</c>: <see cref="StagePositionTelemetry"/>, QoS 0, fast while moving, slow when idle.</summary>
    public const string Position = "position";

    /// <summary><c>event/approach-started</c>: <see cref="ApproachStartedEvent"/>.</summary>
    public const string ApproachStarted = "approach-started";

    /// <summary><c>event/approach-stopped</c>: <see cref="ApproachStoppedEvent"/>.</summary>
    public const string ApproachStopped = "approach-stopped";

    public const string MoveVerb = "move";
    public const string RetractVerb = "retract";
    public const string ApproachVerb = "approach";
    public const string StopVerb = "stop";
    public const string HomeVerb = "home";

    public static string PositionTopic(string instrument) => Topic.Telemetry(instrument, ServiceNames.Stage, Position);

    public static string ApproachStartedTopic(string instrument) => Topic.Event(instrument, ServiceNames.Stage, ApproachStarted);

    public static string ApproachStoppedTopic(string instrument) => Topic.Event(instrument, ServiceNames.Stage, ApproachStopped);
}

/// <summary>Values of <see cref="ApproachStoppedEvent.Reason"/>.</summary>
public static class ApproachStopReasons
{
    public const string Contact = "contact";
    public const string TravelExhausted = "travel-exhausted";
    public const string Stopped = "stopped";
    public const string Fault = "fault";
}

/// <summary>
/// <c>cmd/move</c>: absolute move; omitted axes stay. Replies when on target with <see cref="StagePositionResult"/>;
/// a coordinate outside the travel limits is refused before anything moves.
/// </summary>
public sealed record MoveCommand(double? XUm = null, double? YUm = null, double? ZUm = null) : Payload, IValidatable
{
    public IEnumerable<string> Validate()
    {
        if (XUm is null && YUm is null && ZUm is null)
        {
            yield return "give at least one of xUm, yUm, zUm";
        }
        foreach (var (name, value) in new[] { ("xUm", XUm), ("yUm", YUm), ("zUm", ZUm) })
        {
            if (value is { } v && !double.IsFinite(v))
            {
                yield return $"{name} must be a finite number, got {v}";
            }
        }
    }
}

/// <summary><c>cmd/retract</c>: raise Z by <see cref="DzUm"/> (positive). Replies when on target.</summary>
public sealed record RetractCommand(double DzUm) : Payload, IValidatable
{
    public IEnumerable<string> Validate()
    {
        if (!(DzUm > 0) || !double.IsFinite(DzUm))
        {
            yield return $"dzUm must be a positive number of micrometres, got {DzUm}";
        }
    }
}

/// <summary>
/// <c>cmd/approach</c>: lower Z at <see cref="SpeedUmPerS"/> until any message arrives on <see cref="StopOnTopic"/>
/// (retained messages do not count) or <see cref="MaxTravelUm"/> is used up. Replies when the approach has ended,
/// with <see cref="ApproachStoppedEvent"/>; the events are published as well.
/// </summary>
public sealed record ApproachCommand(double SpeedUmPerS, double MaxTravelUm, string? StopOnTopic = null) : Payload, IValidatable
{
    /// <summary>Faster approaches overshoot by more than a pipette radius within one telemetry period.</summary>
    public const double MaxSpeedUmPerS = 50;

    public IEnumerable<string> Validate()
    {
        if (!(SpeedUmPerS > 0 && SpeedUmPerS <= MaxSpeedUmPerS))
        {
            yield return $"speedUmPerS must be in (0, {MaxSpeedUmPerS}] um/s, got {SpeedUmPerS}";
        }
        if (!(MaxTravelUm > 0) || !double.IsFinite(MaxTravelUm))
        {
            yield return $"maxTravelUm must be a positive number of micrometres, got {MaxTravelUm}";
        }
        if (StopOnTopic is not null &&
            (StopOnTopic.Length == 0 || StopOnTopic.Length > 512 || StopOnTopic.StartsWith('$') ||
             StopOnTopic.Contains('\0', StringComparison.Ordinal)))
        {
            yield return $"stopOnTopic '{StopOnTopic}' is not a usable MQTT topic filter";
        }
    }
}

/// <summary>Reply of move, retract, home and stop: where the stage is now.</summary>
public sealed record StagePositionResult(double XUm, double YUm, double ZUm, bool OnTarget) : Payload;

/// <summary><c>telemetry/position</c>.</summary>
public sealed record StagePositionTelemetry(DateTimeOffset TimestampUtc, double XUm, double YUm, double ZUm, bool OnTarget, bool Moving,
    bool Approaching) : Payload, IValidatable
{
    public IEnumerable<string> Validate() =>
        Problems.Of(Problems.Finite(XUm, "xUm"), Problems.Finite(YUm, "yUm"), Problems.Finite(ZUm, "zUm"));
}

/// <summary><c>event/approach-started</c>.</summary>
public sealed record ApproachStartedEvent(DateTimeOffset TimestampUtc, double StartZUm, double EndZUm, double SpeedUmPerS,
    string? StopOnTopic) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.Finite(StartZUm, "startZUm"), Problems.Finite(EndZUm, "endZUm"), Problems.Positive(SpeedUmPerS, "speedUmPerS"),
        Problems.Text(StopOnTopic, "stopOnTopic", required: false));
}

/// <summary><c>event/approach-stopped</c> and the reply of <c>cmd/approach</c>. <see cref="Reason"/> is one of <see cref="ApproachStopReasons"/>.</summary>
public sealed record ApproachStoppedEvent(DateTimeOffset TimestampUtc, string Reason, double ZUm, double TravelledUm, string? Detail = null)
    : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.Text(Reason, "reason"), Problems.Finite(ZUm, "zUm"), Problems.Finite(TravelledUm, "travelledUm"),
        Problems.Text(Detail, "detail", required: false));
}
