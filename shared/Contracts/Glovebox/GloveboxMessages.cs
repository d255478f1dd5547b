using Seccm.Contracts.Messages;
using Seccm.Contracts.Topics;

namespace Seccm.Contracts.Glovebox;

/// <summary>Topic names and verbs of the glovebox service.</summary>
public static class GloveboxTopics
{
    /// <summary><c>telemetry/atmosphere</c>: <see cref="GloveboxTelemetry"/> every second, QoS 0.</summary>
    public const string Atmosphere = "atmosphere";

    /// <summary><c>event/alarm</c>: <see cref="GloveboxAlarmEvent"/> on every alarm level change, QoS 1.</summary>
    public const string Alarm = "alarm";

    /// <summary><c>event/pump</c>: <see cref="PumpStateResult"/> on every confirmed pump change, QoS 1.</summary>
    public const string Pump = "pump";

    /// <summary><c>cmd/pump</c>: <see cref="PumpCommand"/>, replies <see cref="PumpStateResult"/>.</summary>
    public const string PumpVerb = "pump";

    /// <summary><c>cmd/simulate</c>: <see cref="SimulateCommand"/>, replies <see cref="SimulateResult"/>.</summary>
    public const string SimulateVerb = "simulate";

    /// <summary><c>cmd/status</c>: <see cref="EmptyCommand"/>, replies the latest <see cref="GloveboxTelemetry"/>.</summary>
    public const string StatusVerb = "status";

    public static string AtmosphereTopic(string instrument) => Topic.Telemetry(instrument, ServiceNames.Glovebox, Atmosphere);

    public static string AlarmTopic(string instrument) => Topic.Event(instrument, ServiceNames.Glovebox, Alarm);

    public static string PumpTopic(string instrument) => Topic.Event(instrument, ServiceNames.Glovebox, Pump);
}

/// <summary>Values of the alarm level strings.</summary>
public static class GloveboxAlarmLevels
{
    public const string Unknown = "unknown";
    public const string Ok = "ok";
    public const string Warning = "warning";
    public const string Alarm = "alarm";

    /// <summary>Every level, for checking a received one.</summary>
    public static readonly string[] All = [Unknown, Ok, Warning, Alarm];
}

/// <summary><c>cmd/pump</c>: switch the circulation pump; <see cref="Reason"/> is logged and published.</summary>
public sealed record PumpCommand(bool On, string Reason) : Payload, IValidatable
{
    /// <summary>The longest reason the glovebox takes (it is logged and published in its status).</summary>
    public const int MaxReasonLength = 200;

    /// <summary>
    /// A pump command whose reason fits: a longer one (e.g. built from a device's error text) keeps its beginning and
    /// ends in "...", so the glovebox never refuses to switch the pump over the length of an explanation.
    /// </summary>
    public static PumpCommand Switch(bool on, string reason) =>
        new(on, reason.Length <= MaxReasonLength ? reason : string.Concat(reason.AsSpan(0, MaxReasonLength - 3), "..."));

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Reason))
        {
            yield return "reason must say why the pump is switched (e.g. \"scan s42 imaging\")";
        }
        else if (Reason.Length > MaxReasonLength)
        {
            yield return $"reason is {Reason.Length} characters; keep it under {MaxReasonLength}";
        }
    }
}

/// <summary>The pump as the service knows it (read back from the device).</summary>
public sealed record PumpStateResult(bool On, string Reason, DateTimeOffset SinceUtc, DateTimeOffset? AutoOnUtc) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(Problems.Text(Reason, "reason", required: false));
}

/// <summary><c>cmd/simulate</c>: start a scenario of the simulated glovebox (normal, leak, regeneration).</summary>
public sealed record SimulateCommand(string Scenario) : Payload, IValidatable
{
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Scenario))
        {
            yield return "scenario must name a scenario (normal, leak, regeneration)";
        }
    }
}

public sealed record SimulateResult(string Scenario) : Payload;

/// <summary>One sensor's reading in a telemetry message; <see cref="Error"/> set when it could not be read.</summary>
public sealed record GloveboxSensorReading(string Name, string Quantity, double? Value, string Unit, string? Error = null) : IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.Text(Name, "name"), Problems.Text(Quantity, "quantity"), Problems.Finite(Value, "value"),
        Problems.Text(Error, "error", required: false));
}

/// <summary>
/// <c>telemetry/atmosphere</c>: the worst reading of each quantity (highest O2, highest dew point), alarm levels
/// (<see cref="GloveboxAlarmLevels"/>), the pump and whether scanning is safe.
/// </summary>
public sealed record GloveboxTelemetry(
    DateTimeOffset TimestampUtc,
    double? O2Ppm,
    double? H2oPpm,
    double? DewPointC,
    double? PressureMbar,
    bool PumpOn,
    string PumpReason,
    string O2Alarm,
    string H2oAlarm,
    bool SafeToScan,
    IReadOnlyList<GloveboxSensorReading> Sensors) : Payload, IValidatable
{
    public IEnumerable<string> Validate() =>
        Problems.Of(
                Problems.NonNegative(O2Ppm, "o2Ppm"),
                Problems.NonNegative(H2oPpm, "h2oPpm"),
                Problems.Finite(DewPointC, "dewPointC"),
                Problems.Finite(PressureMbar, "pressureMbar"),
                Problems.Text(PumpReason, "pumpReason", required: false),
                Problems.OneOf(O2Alarm, "o2Alarm", GloveboxAlarmLevels.All),
                Problems.OneOf(H2oAlarm, "h2oAlarm", GloveboxAlarmLevels.All))
            .Concat(Problems.Each(Sensors, "sensors", s => s.Validate()));
}

/// <summary><c>event/alarm</c>: an alarm level changed (after hysteresis and hold time).</summary>
public sealed record GloveboxAlarmEvent(
    DateTimeOffset TimestampUtc,
    string Quantity,
    string From,
    string To,
    double? Value,
    string Unit,
    bool SafeToScan) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.Text(Quantity, "quantity"),
        Problems.OneOf(From, "from", GloveboxAlarmLevels.All),
        Problems.OneOf(To, "to", GloveboxAlarmLevels.All),
        Problems.Finite(Value, "value"));
}

/// <summary>
/// The <c>details</c> of the glovebox's retained status: whether scanning is safe, the alarm level of each quantity
/// (<see cref="GloveboxAlarmLevels"/>), the pump, and the simulated scenario (null on a real glovebox). The readings
/// themselves are in <see cref="GloveboxTelemetry"/>.
/// </summary>
public sealed record GloveboxStatusDetails(bool SafeToScan, string O2Alarm, string H2oAlarm, bool PumpOn, string PumpReason, string? Scenario)
    : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.OneOf(O2Alarm, "o2Alarm", GloveboxAlarmLevels.All),
        Problems.OneOf(H2oAlarm, "h2oAlarm", GloveboxAlarmLevels.All),
        Problems.Text(PumpReason, "pumpReason", required: false),
        Problems.Text(Scenario, "scenario", required: false));

    /// <summary>Why scanning is not safe, in words ("O2 alarm, H2O ok"), or null when it is.</summary>
    public string? UnsafeReason => SafeToScan ? null : $"O2 {O2Alarm}, H2O {H2oAlarm}";
}
