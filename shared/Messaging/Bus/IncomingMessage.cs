namespace Seccm.Messaging.Bus;

/// <summary>A message delivered to a subscription handler.</summary>
public sealed record IncomingMessage(
    string Topic,
    ReadOnlyMemory<byte> Payload,
    bool Retain,
    string? ResponseTopic,
    byte[]? CorrelationData);
