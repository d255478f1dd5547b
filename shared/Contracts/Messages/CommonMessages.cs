using System.Text.Json;
using System.Text.Json.Serialization;

namespace Seccm.Contracts.Messages;

/// <summary>The error half of a reply: a stable machine code and a message a person can act on.</summary>
public sealed record CommandError(string Code, string Message);

/// <summary>Reply to every command: <c>ok</c> with an optional result, or an error.</summary>
public sealed record CommandReply(bool Ok, JsonElement? Result = null, CommandError? Error = null) : Payload, IValidatable
{
    // No length limit on the message: a reply carries the whole reason, however long.
    public IEnumerable<string> Validate() => (Ok, Error) switch
    {
        (true, null) => [],
        (true, _) => ["an ok reply carries no error"],
        (false, null) => ["error must be given when ok is false"],
        (false, { } error) => Problems.Of(
            string.IsNullOrWhiteSpace(error.Code) ? "error.code must not be empty" : null,
            string.IsNullOrWhiteSpace(error.Message) ? "error.message must not be empty" : null),
    };
}

/// <summary>Well-known error codes.</summary>
public static class ErrorCodes
{
    public const string BadPayload = "bad_payload";
    public const string InvalidArgument = "invalid_argument";
    public const string UnknownCommand = "unknown_command";
    public const string Busy = "busy";
    public const string Refused = "refused";
    public const string DeviceError = "device_error";
    public const string Timeout = "timeout";
    public const string Internal = "internal_error";
}

/// <summary>Retained <c>status</c> of a service; the last will says <c>offline</c>.</summary>
public sealed record ServiceStatus(
    string Service,
    string Instrument,
    string State,
    string Version,
    DateTimeOffset TimestampUtc,
    string? Driver = null,
    string? ClientId = null,
    JsonElement? Details = null) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.Text(Service, "service"), Problems.Text(Instrument, "instrument"), Problems.Text(State, "state"),
        Problems.Text(Driver, "driver", required: false));

    public const string Online = "online";
    public const string Offline = "offline";

    public bool IsOnline => State == Online;
}

/// <summary>
/// The device part of a service's retained status <c>details</c>: <see cref="DeviceFault"/> true with the driver's
/// message in <see cref="Fault"/> while its device does not answer sensibly (the scan pauses on it). A service
/// without a device, or details without these fields, has no fault.
/// </summary>
public sealed record DeviceStatusDetails(bool DeviceFault = false, string? Fault = null) : IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        DeviceFault && string.IsNullOrWhiteSpace(Fault) ? "a device fault must say what is wrong (fault)" : null,
        Problems.Text(Fault, "fault", required: false));
}

/// <summary>Payload of <c>cmd/ping</c>.</summary>
public sealed record PingCommand(string? Text = null) : Payload;

/// <summary>Result of <c>cmd/ping</c>.</summary>
public sealed record PingResult(string Service, string Instrument, DateTimeOffset TimestampUtc, string? Text) : Payload;

/// <summary>A command that takes no arguments (stop, abort, status ...). Any JSON object is accepted.</summary>
public sealed record EmptyCommand : Payload;

/// <summary>
/// <c>seccm/{instrument}/{service}/telemetry/queues</c> (QoS 0), from every service's bus: its MQTT queues (outgoing,
/// parked, received backlog), its time-series sink (absent without one) and its process's memory.
/// </summary>
public sealed record QueueTelemetry(
    string Service,
    DateTimeOffset TimestampUtc,
    long OutgoingMessages,
    long ParkedMessages,
    long ReceivedBacklog,
    long ProcessRssBytes,
    long GcHeapBytes,
    long GcCommittedBytes) : Payload, IValidatable
{
    /// <summary>The telemetry name, the same for every service.</summary>
    public const string Name = "queues";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? SinkPendingPoints { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? SinkBufferedSegments { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? SinkBufferedBytes { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? SinkPointsWritten { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? SinkPointsDelivered { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? SinkPointsDropped { get; init; }

    public IEnumerable<string> Validate() => Problems.Of(
        Problems.Text(Service, "service"),
        Problems.NonNegative(OutgoingMessages, "outgoingMessages"),
        Problems.NonNegative(ParkedMessages, "parkedMessages"),
        Problems.NonNegative(ReceivedBacklog, "receivedBacklog"),
        Problems.NonNegative(ProcessRssBytes, "processRssBytes"),
        Problems.NonNegative(GcHeapBytes, "gcHeapBytes"),
        Problems.NonNegative(GcCommittedBytes, "gcCommittedBytes"),
        SinkPendingPoints is { } p ? Problems.NonNegative(p, "sinkPendingPoints") : null,
        SinkBufferedSegments is { } s ? Problems.NonNegative(s, "sinkBufferedSegments") : null,
        SinkBufferedBytes is { } b ? Problems.NonNegative(b, "sinkBufferedBytes") : null);
}
