using System.Reflection;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Commands;
using Seccm.Messaging.Hosting;

namespace Seccm.Messaging.Bus;

/// <summary>
/// One MQTT 5 connection of one service, put together from its parts: the <see cref="MqttConnection"/> (reconnects,
/// persistent session, last will), the <see cref="Outbox"/> (queued QoS 1 messages survive a lost broker), the
/// <see cref="SubscriptionRouter"/> (handlers per filter, acknowledgement after handling) and
/// <see cref="RequestReply"/> (commands both ways). It owns the retained status and the lifetime.
/// </summary>
public sealed partial class MqttBus : IMessageBus, IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly MqttConnection _connection;
    private readonly Outbox _outbox;
    private readonly SubscriptionRouter _router;
    private readonly RequestReply _requests;
    private readonly CancellationTokenSource _stop = new();
    private Task? _connectLoop;
    private Task? _publishLoop;
    // Online is announced once, when the service says its commands are mapped (at once for StartAsync without hold), and
    // then on every connection after the subscriptions; the gate keeps an announcement and a reconnection apart.
    private readonly SemaphoreSlim _onlineGate = new(1, 1);
    private volatile bool _announced;
    private int _subscribedEpoch = -1;
    private ServiceStatus _status;
    private bool _disposed;

    public MqttBus(string service, SeccmOptions seccm, MqttOptions options, ILogger logger, TimeProvider time, string? driver = null)
    {
        Service = Topic.CheckSegment(service, "service");
        Instrument = Topic.CheckSegment(seccm.Instrument, "instrument");
        ClientId = string.IsNullOrEmpty(seccm.WorkerId)
            ? $"seccm-{Instrument}-{Service}"
            : $"seccm-{Instrument}-{Service}-{seccm.WorkerId}";
        Time = time;
        _logger = logger;
        _status = new ServiceStatus(Service, Instrument, ServiceStatus.Online, Version, time.GetUtcNow(), driver, ClientId);
        _connection = new MqttConnection(ClientId, Topic.Status(Instrument, Service), options, logger, time,
            will: () => SeccmJson.Serialize(_status with { State = ServiceStatus.Offline, Details = null }),
            onConnected: OnConnectedAsync,
            onMessage: e => _router!.OnMessageAsync(e, _stop.Token));
        _outbox = new Outbox(_connection, options.MaxQueuedMessages, ClientId, logger, time);
        _router = new SubscriptionRouter(_connection, ClientId, logger);
        _requests = new RequestReply(_router, _outbox, Service, Instrument, ClientId, logger, time, () => _stop.Token);
    }

    /// <summary><c>event/reply</c>: the reply to a command that named no response topic.</summary>
    public const string UnaddressedReplyEvent = "reply";

    public static string Version { get; } =
        typeof(MqttBus).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public string Service { get; }

    public string Instrument { get; }

    public string ClientId { get; }

    public TimeProvider Time { get; }

    public bool IsConnected => _connection.IsConnected;

    /// <summary>Whether the broker offers MQTT 5 shared subscriptions (mosquitto yes; MQTTnet's embedded broker no).</summary>
    public bool SharedSubscriptionsAvailable => _connection.SharedSubscriptionsAvailable;

    /// <summary>
    /// Changes whenever the connection drops (also on each failed attempt to make it again). A change between two
    /// readings means the connection was lost in between, and with it possibly messages the broker had accepted but
    /// not yet delivered (a broker that dies loses what it had not written to disk).
    /// </summary>
    public int ConnectionEpoch => _connection.Epoch;

    /// <summary>Number of messages waiting to be published.</summary>
    public int QueuedMessages => _outbox.Count;

    /// <summary>Received messages waiting for a subscription that has not been registered yet (capped).</summary>
    public int ParkedMessages => _router.ParkedMessages;

    /// <summary>Received messages waiting for their handler, over all subscriptions.</summary>
    public int ReceivedBacklog => _router.Backlog;

    /// <summary>The verbs this service answers.</summary>
    public IEnumerable<string> Verbs => _requests.Verbs;

    /// <summary>Commands this service received and has not answered yet.</summary>
    public int CommandsRunning => _requests.Running;

    public ServiceStatus CurrentStatus => _status;

    /// <summary>Starts connecting in the background; returns at once. Use <see cref="WaitConnectedAsync"/> to wait.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => StartAsync(cancellationToken, announceOnline: true);

    /// <summary>
    /// Starts connecting in the background. Without <paramref name="announceOnline"/> the status stays unpublished
    /// (status details set meanwhile are kept) until <see cref="AnnounceOnlineAsync"/>: a service announced online before
    /// its command subscriptions exist would lose the commands sent to it in between (MQTT drops a message nobody subscribes).
    /// Either way <c>online</c> is published only after the broker has acknowledged the subscriptions registered so far.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken, bool announceOnline)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _announced |= announceOnline;
        _connectLoop ??= Task.Run(() => _connection.RunAsync(_stop.Token), CancellationToken.None);
        _publishLoop ??= Task.Run(() => _outbox.RunAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task WaitConnectedAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _connection.WaitConnectedAsync(timeout, cancellationToken);

    /// <summary>
    /// The service has mapped its commands: publishes <c>online</c> (now if connected, once the broker has acknowledged
    /// every subscription so far; else at the connection, after them) and from now on every status change.
    /// </summary>
    public async Task AnnounceOnlineAsync(CancellationToken cancellationToken)
    {
        await _onlineGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_announced)
            {
                return;
            }
            _announced = true;
            Interlocked.MemoryBarrier();
            if (_connection.IsConnected && Volatile.Read(ref _subscribedEpoch) == _connection.Epoch)
            {
                await _router.WaitSubscribedAsync().ConfigureAwait(false);
                await _connection.Client.PublishAsync(StatusMessage(_status with { State = ServiceStatus.Online, TimestampUtc = Time.GetUtcNow() }),
                    cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (MqttConnection.IsConnectionFailure(ex))
        {
            // Lost meanwhile: the next connection announces it, after its subscriptions.
        }
        finally
        {
            _onlineGate.Release();
        }
    }

    /// <summary>
    /// Queues a message. QoS 1 messages wait in the queue while the broker is away and are sent when it is back;
    /// QoS 0 messages (telemetry) are dropped while disconnected, since stale telemetry is worse than none.
    /// </summary>
    public ValueTask PublishAsync<T>(string topic, T payload, MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce,
        bool retain = false, CancellationToken cancellationToken = default) =>
        PublishRawAsync(topic, SeccmJson.Serialize(payload), qos, retain, cancellationToken);

    public ValueTask PublishRawAsync(string topic, byte[] payload, MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce,
        bool retain = false, CancellationToken cancellationToken = default) =>
        _outbox.EnqueueAsync(Message(topic, payload, qos, retain), cancellationToken);

    /// <summary>
    /// Publishes a QoS 1 message past the queue and returns when the broker has acknowledged it, waiting through
    /// reconnects: for a result that must be on the broker before the message it came from is acknowledged. A message
    /// the client refuses while connected (not a lost connection) throws instead of being tried forever.
    /// </summary>
    public Task PublishConfirmedAsync<T>(string topic, T payload, bool retain = false, CancellationToken cancellationToken = default) =>
        PublishRawConfirmedAsync(topic, SeccmJson.Serialize(payload), retain, cancellationToken);

    public Task PublishRawConfirmedAsync(string topic, byte[] payload, bool retain = false, CancellationToken cancellationToken = default) =>
        _outbox.PublishConfirmedAsync(Message(topic, payload, MqttQualityOfServiceLevel.AtLeastOnce, retain), cancellationToken);

    /// <summary>
    /// Subscribes <paramref name="handler"/> to <paramref name="filter"/>. Messages of one subscription are handled
    /// one at a time, in order; a handler that throws is logged and the next message is handled. With
    /// <paramref name="acknowledgeAfterHandling"/> a QoS 1 message is acknowledged to the broker only when the handler has
    /// returned, so a process killed before that gets it again from its persistent session (at-least-once processing;
    /// the handler must tolerate duplicates). Otherwise it is acknowledged as soon as it is queued here.
    /// </summary>
    public Task SubscribeAsync(string filter, Func<IncomingMessage, CancellationToken, Task> handler,
        MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce, int capacity = 10_000, bool acknowledgeAfterHandling = false) =>
        _router.AddAsync(filter, handler, qos, capacity, acknowledgeAfterHandling, _stop.Token);

    /// <summary>Replaces the status details (retained) and publishes it again.</summary>
    public ValueTask SetStatusAsync(System.Text.Json.JsonElement? details, string? driver = null, CancellationToken cancellationToken = default)
    {
        _status = _status with { Details = details, Driver = driver ?? _status.Driver, TimestampUtc = Time.GetUtcNow() };
        Interlocked.MemoryBarrier();
        if (!_announced)
        {
            // Published with the online announcement.
            return ValueTask.CompletedTask;
        }
        return PublishAsync(Topic.Status(Instrument, Service), _status, MqttQualityOfServiceLevel.AtLeastOnce, retain: true, cancellationToken);
    }

    /// <summary>
    /// Answers <c>cmd/{verb}</c> with <paramref name="handler"/>. The payload is parsed as <typeparamref name="TCommand"/>
    /// and validated (<see cref="IValidatable"/>) before the handler sees it; a bad payload gets an error reply and
    /// changes nothing. Handlers run concurrently (a <c>stop</c> must not wait for a running <c>approach</c>).
    /// </summary>
    public Task MapCommandAsync<TCommand, TResult>(string verb, Func<TCommand, CancellationToken, Task<TResult>> handler, string? shareGroup = null) =>
        _requests.MapAsync<TCommand>(verb, async (command, ct) => SeccmJson.ToElement(await handler(command, ct).ConfigureAwait(false)), null, shareGroup);

    /// <summary>Answers <c>cmd/{verb}</c> with a handler that returns no result.</summary>
    public Task MapCommandAsync<TCommand>(string verb, Func<TCommand, CancellationToken, Task> handler,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TCommand>? typeInfo = null) =>
        _requests.MapAsync(verb, async (command, ct) =>
        {
            await handler(command, ct).ConfigureAwait(false);
            return (System.Text.Json.JsonElement?)null;
        }, typeInfo);

    /// <summary>Starts answering commands (at least <c>cmd/ping</c>) even before any other verb is mapped.</summary>
    public Task ListenForCommandsAsync() => _requests.EnsureCommandSubscriptionAsync();

    /// <summary>Sends <c>cmd/{verb}</c> to a service of this instrument and waits for its reply.</summary>
    public Task<CommandReply> RequestAsync<TCommand>(string service, string verb, TCommand command, TimeSpan timeout,
        CancellationToken cancellationToken = default) =>
        RequestToAsync(Topic.Command(Instrument, service, verb), command, timeout, cancellationToken);

    /// <summary>Sends a command to any command topic (another instrument's, for a facility tool) and waits for the reply.</summary>
    public Task<CommandReply> RequestToAsync<TCommand>(string commandTopic, TCommand command, TimeSpan timeout,
        CancellationToken cancellationToken = default) =>
        RequestRawAsync(commandTopic, SeccmJson.Serialize(command), timeout, cancellationToken);

    /// <summary>Sends any bytes as a command and waits for the reply (tools, tests of malformed input).</summary>
    public Task<CommandReply> RequestRawAsync(string commandTopic, byte[] payload, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _requests.RequestAsync(commandTopic, payload, timeout, cancellationToken);

    /// <summary>Like <see cref="RequestAsync{TCommand}"/> but throws <see cref="CommandFailedException"/> on an error reply.</summary>
    public async Task<TResult> CallAsync<TCommand, TResult>(string service, string verb, TCommand command, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        var reply = await RequestOkAsync(service, verb, command, timeout, cancellationToken).ConfigureAwait(false);
        if (reply.Result is not { } result)
        {
            throw new CommandFailedException(service, verb, new CommandError(ErrorCodes.Internal, "the reply carries no result"));
        }
        return SeccmJson.DeserializeChecked<TResult>(result, $"reply of {service}/{verb}");
    }

    /// <summary>Sends a command and throws <see cref="CommandFailedException"/> on an error reply; ignores any result.</summary>
    public Task CallAsync<TCommand>(string service, string verb, TCommand command, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        RequestOkAsync(service, verb, command, timeout, cancellationToken);

    // A service calling another: a command the receiver would refuse as invalid is not sent (CommandException with the
    // receiver's own reasons), so two services never disagree on a contract at run time. RequestAsync sends anything.
    private async Task<CommandReply> RequestOkAsync<TCommand>(string service, string verb, TCommand command, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        try
        {
            SeccmJson.ThrowIfInvalid(command, $"{Topic.Command(Instrument, service, verb)} (not sent)");
        }
        catch (PayloadException ex)
        {
            throw CommandException.Invalid(ex.Message);
        }
        var reply = await RequestAsync(service, verb, command, timeout, cancellationToken).ConfigureAwait(false);
        if (!reply.Ok)
        {
            throw new CommandFailedException(service, verb, reply.Error ?? new CommandError(ErrorCodes.Internal, "no error given"));
        }
        return reply;
    }

    /// <summary>Waits until everything queued has been handed to the broker (or the timeout passes).</summary>
    public Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => _outbox.DrainAsync(timeout, cancellationToken);

    /// <summary>Publishes <c>offline</c>, drains the queue for up to <paramref name="drainTimeout"/>, disconnects.</summary>
    public async Task StopAsync(TimeSpan drainTimeout)
    {
        if (_stop.IsCancellationRequested || _connection.Stopping)
        {
            return;
        }
        _connection.Stopping = true;
        try
        {
            if (_connection.IsConnected)
            {
                await DrainAsync(drainTimeout).ConfigureAwait(false);
                await _connection.Client.PublishAsync(StatusMessage(_status with { State = ServiceStatus.Offline, Details = null, TimestampUtc = Time.GetUtcNow() }))
                    .ConfigureAwait(false);
                await _connection.Client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder()
                    .WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build()).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogStopFailed(_logger, ClientId, ex.Message);
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        _requests.CancelPending();
        await WaitQuietlyAsync(_connectLoop).ConfigureAwait(false);
        await WaitQuietlyAsync(_publishLoop).ConfigureAwait(false);
        await _router.CompleteAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        await StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        _disposed = true;
        _connection.Dispose();
        _stop.Dispose();
        _onlineGate.Dispose();
    }

    private async Task OnConnectedAsync(CancellationToken stop)
    {
        await _onlineGate.WaitAsync(stop).ConfigureAwait(false);
        try
        {
            var epoch = _connection.Epoch;
            await _router.SubscribeAllOnBrokerAsync(stop).ConfigureAwait(false);
            Volatile.Write(ref _subscribedEpoch, epoch);
            if (_announced)
            {
                await _router.WaitSubscribedAsync().ConfigureAwait(false);
                await _connection.Client.PublishAsync(StatusMessage(_status with { State = ServiceStatus.Online, TimestampUtc = Time.GetUtcNow() }), stop)
                    .ConfigureAwait(false);
            }
        }
        finally
        {
            _onlineGate.Release();
        }
    }

    private static MqttApplicationMessage Message(string topic, byte[] payload, MqttQualityOfServiceLevel qos, bool retain) =>
        new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(qos)
            .WithRetainFlag(retain)
            .WithContentType("application/json")
            .Build();

    private MqttApplicationMessage StatusMessage(ServiceStatus status) =>
        new MqttApplicationMessageBuilder()
            .WithTopic(Topic.Status(Instrument, Service))
            .WithPayload(SeccmJson.Serialize(status))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag()
            .Build();

    private static async Task WaitQuietlyAsync(Task? task)
    {
        if (task is null)
        {
            return;
        }
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{ClientId}: clean stop failed: {Reason}")]
    private static partial void LogStopFailed(ILogger logger, string clientId, string reason);
}
