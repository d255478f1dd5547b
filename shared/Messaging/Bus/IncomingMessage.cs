namespace Seccm.Messaging.Bus;

/// <summary>A message delivered to a subscription handler (<see cref="SubscriptionIds"/>: the MQTT 5 identifiers of the subscriptions it came through, if the broker named them).</summary>
public sealed record IncomingMessage(
    string Topic,
    ReadOnlyMemory<byte> Payload,
    bool Retain,
    string? ResponseTopic,
    byte[]? CorrelationData,
    IReadOnlyList<uint>? SubscriptionIds = null);
