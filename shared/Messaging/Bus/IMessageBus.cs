using System.Text.Json;
using MQTTnet.Protocol;
using Seccm.Contracts.Messages;

namespace Seccm.Messaging.Bus;

/// <summary>
/// What a service needs from its MQTT connection: publish, subscribe, a retained status, and commands both ways.
/// <see cref="MqttBus"/> is the implementation; services depend on this.
/// </summary>
public interface IMessageBus
{
    string Service { get; }

    string Instrument { get; }

    string ClientId { get; }

    TimeProvider Time { get; }

    /// <summary>Changes whenever the connection drops: messages the broker had accepted may have been lost in between.</summary>
    int ConnectionEpoch { get; }

    /// <summary>Whether the broker offers MQTT 5 shared subscriptions.</summary>
    bool SharedSubscriptionsAvailable { get; }

    /// <summary>Number of messages waiting to be published.</summary>
    int QueuedMessages { get; }

    /// <summary>Waits for the first connection; a <see cref="TimeoutException"/> names the broker when it does not come.</summary>
    Task WaitConnectedAsync(TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Queues a message: QoS 1 waits through a lost connection, QoS 0 (telemetry) is dropped while disconnected.</summary>
    ValueTask PublishAsync<T>(string topic, T payload, MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce,
        bool retain = false, CancellationToken cancellationToken = default);

    /// <summary>Queues bytes already serialized, like <see cref="PublishAsync{T}"/>.</summary>
    ValueTask PublishRawAsync(string topic, byte[] payload, MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce,
        bool retain = false, CancellationToken cancellationToken = default);

    /// <summary>Publishes a QoS 1 message past the queue and returns when the broker has acknowledged it.</summary>
    Task PublishConfirmedAsync<T>(string topic, T payload, bool retain = false, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="PublishConfirmedAsync{T}"/> for bytes as they are (an empty retained one clears the topic).</summary>
    Task PublishRawConfirmedAsync(string topic, byte[] payload, bool retain = false, CancellationToken cancellationToken = default);

    /// <summary>Handles messages on <paramref name="filter"/> one at a time, in order.</summary>
    Task SubscribeAsync(string filter, Func<IncomingMessage, CancellationToken, Task> handler,
        MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce, int capacity = 10_000, bool acknowledgeAfterHandling = false);

    /// <summary>Replaces the retained status's details and publishes it again.</summary>
    ValueTask SetStatusAsync(JsonElement? details, string? driver = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Answers <c>cmd/{verb}</c>; the payload is parsed and validated before the handler sees it. With
    /// <paramref name="shareGroup"/> one member of that MQTT 5 share group answers each command (where the broker offers
    /// shared subscriptions; else this client, the only member). Map verbs before the host has started: the service is
    /// announced online only once they are subscribed.
    /// </summary>
    Task MapCommandAsync<TCommand, TResult>(string verb, Func<TCommand, CancellationToken, Task<TResult>> handler, string? shareGroup = null);

    /// <summary>Answers <c>cmd/{verb}</c> with a handler that returns no result.</summary>
    Task MapCommandAsync<TCommand>(string verb, Func<TCommand, CancellationToken, Task> handler,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TCommand>? typeInfo = null);

    /// <summary>Sends <c>cmd/{verb}</c> to a service of this instrument and waits for its reply.</summary>
    Task<CommandReply> RequestAsync<TCommand>(string service, string verb, TCommand command, TimeSpan timeout,
        CancellationToken cancellationToken = default);

    /// <summary>Like <see cref="RequestAsync{TCommand}"/>; an invalid command is not sent, an error reply throws, the result is parsed.</summary>
    Task<TResult> CallAsync<TCommand, TResult>(string service, string verb, TCommand command, TimeSpan timeout,
        CancellationToken cancellationToken = default);

    /// <summary>Like <see cref="RequestAsync{TCommand}"/>; an error reply throws, any result is ignored.</summary>
    Task CallAsync<TCommand>(string service, string verb, TCommand command, TimeSpan timeout, CancellationToken cancellationToken = default);
}
