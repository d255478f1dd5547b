namespace Seccm.Contracts.Topics;

/// <summary>The kind of a topic, the third level of <c>seccm/{instrument}/{service}/{kind}/...</c>.</summary>
public enum TopicKind
{
    Status,
    Telemetry,
    Event,
    Cmd,
    Reply,
    Data,
    Result,
}
