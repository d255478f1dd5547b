using System.Buffers;
using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Hosting;

namespace Seccm.Messaging.Bus;

/// <summary>
/// One MQTT 5 connection of one service: reconnects with backoff, keeps a persistent session, re-subscribes,
/// queues outgoing QoS 1 messages while the broker is away, publishes a retained status with a last will,
/// and does request/reply with response topic and correlation data.
/// </summary>
public sealed partial class MqttBus : IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);
    private const int PublishWindow = 64;
    private const int MaxParked = 10_000;
    private readonly List<IncomingMessage> _parked = [];

    private readonly MqttOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly IMqttClient _client;
    private readonly Channel<MqttApplicationMessage> _outgoing;
    private readonly ConcurrentDictionary<string, Subscription> _subscriptions = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<CommandReply>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _connectedSignal = new(0);
    private readonly string _replyTopic;
    private volatile TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _connectLoop;
    private Task? _publishLoop;
    private ServiceStatus _status;
    private bool _disposed;
    private volatile bool _stopping;
    private int _connectionEpoch;

    public MqttBus(string service, SeccmOptions seccm, MqttOptions options, ILogger logger, TimeProvider time, string? driver = null)
    {
        Service = Topic.CheckSegment(service, "service");
        Instrument = Topic.CheckSegment(seccm.Instrument, "instrument");
        ClientId = string.IsNullOrEmpty(seccm.WorkerId)
            ? $"seccm-{Instrument}-{Service}"
            : $"seccm-{Instrument}-{Service}-{seccm.WorkerId}";
        _options = options;
        _logger = logger;
        _time = time;
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
        _client.DisconnectedAsync += OnDisconnectedAsync;
        _outgoing = Channel.CreateBounded<MqttApplicationMessage>(new BoundedChannelOptions(options.MaxQueuedMessages)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _replyTopic = Topic.Reply(Instrument, Service, ClientId);
        _status = new ServiceStatus(Service, Instrument, ServiceStatus.Online, Version, time.GetUtcNow(), driver, ClientId);
    }

    public static string Version { get; } =
        typeof(MqttBus).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public string Service { get; }

    public string Instrument { get; }

    public string ClientId { get; }

    public TimeProvider Time => _time;

    public bool IsConnected => _client.IsConnected;

    /// <summary>Whether the broker offers MQTT 5 shared subscriptions (mosquitto yes; MQTTnet's embedded broker no).</summary>
    public bool SharedSubscriptionsAvailable { get; private set; }

    /// <summary>
    /// Changes whenever the connection drops (also on each failed attempt to make it again). A change between two
    /// readings means the connection was lost in between, and with it possibly messages the broker had accepted but
    /// not yet delivered (a broker that dies loses what it had not written to disk).
    /// </summary>
    public int ConnectionEpoch => Volatile.Read(ref _connectionEpoch);

    /// <summary>Number of messages waiting to be published.</summary>
    public int QueuedMessages => _outgoing.Reader.Count;

    /// <summary>Received messages waiting for a subscription that has not been registered yet (capped).</summary>
    public int ParkedMessages
    {
        get
        {
            lock (_parked)
            {
                return _parked.Count;
            }
        }
    }

    /// <summary>Received messages waiting for their handler, over all subscriptions.</summary>
    public int ReceivedBacklog => _subscriptions.Values.Sum(s => s.Queue.Reader.Count);

    /// <summary>Starts connecting in the background; returns at once. Use <see cref="WaitConnectedAsync"/> to wait.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _connectLoop ??= Task.Run(() => ConnectLoopAsync(_stop.Token), CancellationToken.None);
        _publishLoop ??= Task.Run(() => PublishLoopAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task WaitConnectedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _connected.Task.WaitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"{ClientId} could not connect to the MQTT broker at {_options.Host}:{_options.Port} within {timeout.TotalSeconds:0.#} s.");
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
        bool retain = false, CancellationToken cancellationToken = default)
    {
        if (qos == MqttQualityOfServiceLevel.AtMostOnce && !_client.IsConnected)
        {
            return ValueTask.CompletedTask;
        }
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(qos)
            .WithRetainFlag(retain)
            .WithContentType("application/json")
            .Build();
        return _outgoing.Writer.WriteAsync(message, cancellationToken);
    }

    /// <summary>
    /// Publishes a QoS 1 message past the queue and returns when the broker has acknowledged it, waiting through
    /// reconnects: for a result that must be on the broker before the message it came from is acknowledged. A message
    /// the client refuses while connected (not a lost connection) throws instead of being tried forever.
    /// </summary>
    public async Task PublishConfirmedAsync<T>(string topic, T payload, bool retain = false, CancellationToken cancellationToken = default)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(SeccmJson.Serialize(payload))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(retain)
            .WithContentType("application/json")
            .Build();
        while (true)
        {
            await WaitUntilConnectedAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var result = await StartPublish(message, cancellationToken).ConfigureAwait(false);
                if (!result.IsSuccess)
                {
                    LogPublishRefused(_logger, ClientId, topic, result.ReasonCode.ToString());
                }
                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested
                && (ex is OperationCanceledException || IsConnectionFailure(ex) || !_client.IsConnected))
            {
                // The connection dropped under it: send it again once connected (at-least-once), as the queue does.
                await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Subscribes <paramref name="handler"/> to <paramref name="filter"/>. Messages of one subscription are handled
    /// one at a time, in order; a handler that throws is logged and the next message is handled. With
    /// <paramref name="acknowledgeAfterHandling"/> a QoS 1 message is acknowledged to the broker only when the handler has
    /// returned, so a process killed before that gets it again from its persistent session (at-least-once processing;
    /// the handler must tolerate duplicates). Otherwise it is acknowledged as soon as it is queued here.
    /// </summary>
    public async Task SubscribeAsync(string filter, Func<IncomingMessage, CancellationToken, Task> handler,
        MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce, int capacity = 10_000, bool acknowledgeAfterHandling = false)
    {
        var subscription = new Subscription(filter, qos, handler, capacity, acknowledgeAfterHandling);
        if (!_subscriptions.TryAdd(filter, subscription))
        {
            throw new InvalidOperationException($"{ClientId} already subscribes to '{filter}'.");
        }
        foreach (var parked in Unpark(subscription))
        {
            subscription.Queue.Writer.TryWrite(new Delivery(parked, null));
        }
        subscription.Worker = Task.Run(() => RunSubscriptionAsync(subscription, _stop.Token), CancellationToken.None);
        if (_client.IsConnected)
        {
            await SubscribeOnBrokerAsync(subscription, _stop.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Replaces the status details (retained) and publishes it again.</summary>
    public ValueTask SetStatusAsync(System.Text.Json.JsonElement? details, string? driver = null, CancellationToken cancellationToken = default)
    {
        _status = _status with { Details = details, Driver = driver ?? _status.Driver, TimestampUtc = _time.GetUtcNow() };
        return PublishAsync(Topic.Status(Instrument, Service), _status, MqttQualityOfServiceLevel.AtLeastOnce, retain: true, cancellationToken);
    }

    public ServiceStatus CurrentStatus => _status;

    private async Task ConnectLoopAsync(CancellationToken stop)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stop.IsCancellationRequested)
        {
            if (_client.IsConnected)
            {
                try
                {
                    await _connectedSignal.WaitAsync(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            try
            {
                var result = await _client.ConnectAsync(BuildClientOptions(), stop).ConfigureAwait(false);
                if (result.ResultCode != MqttClientConnectResultCode.Success)
                {
                    throw new InvalidOperationException($"the broker refused the connection: {result.ResultCode} {result.ReasonString}");
                }
                SharedSubscriptionsAvailable = result.SharedSubscriptionAvailable;
                LogConnected(_logger, ClientId, _options.Host, _options.Port, result.IsSessionPresent);
                foreach (var subscription in _subscriptions.Values)
                {
                    await SubscribeOnBrokerAsync(subscription, stop).ConfigureAwait(false);
                }
                await _client.PublishAsync(StatusMessage(_status with { State = ServiceStatus.Online, TimestampUtc = _time.GetUtcNow() }), stop)
                    .ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(100);
                _connected.TrySetResult();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogConnectFailed(_logger, ClientId, _options.Host, _options.Port, backoff.TotalMilliseconds, ex.Message);
                try
                {
                    await Task.Delay(backoff, _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        Interlocked.Increment(ref _connectionEpoch);
        if (_connected.Task.IsCompleted)
        {
            _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        if (!_stop.IsCancellationRequested && !_stopping && e.ClientWasConnected)
        {
            LogDisconnected(_logger, ClientId, e.Reason.ToString());
        }
        _connectedSignal.Release();
        return Task.CompletedTask;
    }

    private MqttClientOptions BuildClientOptions()
    {
        var will = SeccmJson.Serialize(_status with { State = ServiceStatus.Offline, Details = null });
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Host, _options.Port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId(ClientId)
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)_options.SessionExpirySeconds)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(_options.KeepAliveSeconds))
            .WithTimeout(TimeSpan.FromSeconds(5))
            .WithWillTopic(Topic.Status(Instrument, Service))
            .WithWillPayload(will)
            .WithWillRetain()
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (!string.IsNullOrEmpty(_options.Username))
        {
            builder.WithCredentials(_options.Username, _options.ResolvePassword());
        }
        if (_options.UseTls)
        {
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls();
                if (!string.IsNullOrEmpty(_options.CaFile))
                {
                    var ca = X509CertificateLoader.LoadCertificateFromFile(_options.CaFile);
                    tls.WithTrustChain([ca]);
                }
            });
        }
        return builder.Build();
    }

    private MqttApplicationMessage StatusMessage(ServiceStatus status) =>
        new MqttApplicationMessageBuilder()
            .WithTopic(Topic.Status(Instrument, Service))
            .WithPayload(SeccmJson.Serialize(status))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag()
            .Build();

    private async Task SubscribeOnBrokerAsync(Subscription subscription, CancellationToken cancellationToken)
    {
        var options = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(subscription.Filter).WithQualityOfServiceLevel(subscription.Qos))
            .Build();
        var result = await _client.SubscribeAsync(options, cancellationToken).ConfigureAwait(false);
        foreach (var item in result.Items)
        {
            if ((int)item.ResultCode > 2)
            {
                LogSubscribeRefused(_logger, ClientId, subscription.Filter, item.ResultCode.ToString());
            }
        }
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var message = e.ApplicationMessage;
        var incoming = new IncomingMessage(
            message.Topic,
            message.Payload.ToArray(),
            message.Retain,
            message.ResponseTopic,
            message.CorrelationData);

        var matching = _subscriptions.Values.Where(s => s.Matches(message.Topic)).ToList();
        var holders = message.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce ? 0 : matching.Count(s => s.AcknowledgeAfterHandling);
        PendingAcknowledgement? ack = null;
        if (holders > 0)
        {
            e.AutoAcknowledge = false;
            ack = new PendingAcknowledgement(e, holders, ConnectionEpoch, () => ConnectionEpoch);
        }
        foreach (var subscription in matching)
        {
            await subscription.Queue.Writer.WriteAsync(new Delivery(incoming, subscription.AcknowledgeAfterHandling ? ack : null), _stop.Token)
                .ConfigureAwait(false);
        }
        if (matching.Count == 0)
        {
            Park(incoming);
        }
    }

    // A persistent session delivers what was queued for us right after CONNACK, possibly before the service
    // has registered its handlers again: such messages wait here for the subscription that wants them.
    private void Park(IncomingMessage message)
    {
        lock (_parked)
        {
            if (_parked.Count >= MaxParked)
            {
                _parked.RemoveAt(0);
            }
            _parked.Add(message);
        }
    }

    private List<IncomingMessage> Unpark(Subscription subscription)
    {
        lock (_parked)
        {
            var taken = _parked.Where(m => subscription.Matches(m.Topic)).ToList();
            _parked.RemoveAll(m => subscription.Matches(m.Topic));
            return taken;
        }
    }

    private async Task RunSubscriptionAsync(Subscription subscription, CancellationToken stop)
    {
        try
        {
            await foreach (var (message, ack) in subscription.Queue.Reader.ReadAllAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await subscription.Handler(message, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // Not acknowledged: the broker delivers it again to the next session.
                    return;
                }
                catch (Exception ex)
                {
                    LogHandlerFailed(_logger, ex, ClientId, message.Topic);
                }
                if (ack is not null)
                {
                    await ack.HandledAsync(stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // The one task that hands queued messages to the broker. It must outlive every failure: when it ended, nothing
    // (replies included) was ever sent again and the service looked alive but deaf (seen after a broker SIGKILL).
    private async Task PublishLoopAsync(CancellationToken stop)
    {
        var batch = new List<MqttApplicationMessage>(PublishWindow);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await PublishQueuedAsync(batch, stop).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The batch is kept: its messages go out on the next turn (at-least-once).
                LogPublishLoopFailed(_logger, ex, ClientId);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task PublishQueuedAsync(List<MqttApplicationMessage> batch, CancellationToken stop)
    {
        var tasks = new List<Task<MqttClientPublishResult>>(PublishWindow);
        while (batch.Count > 0 || await _outgoing.Reader.WaitToReadAsync(stop).ConfigureAwait(false))
        {
            while (batch.Count < PublishWindow && _outgoing.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            while (batch.Count > 0)
            {
                if (!_client.IsConnected)
                {
                    batch.RemoveAll(m => m.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce);
                    if (batch.Count == 0)
                    {
                        break;
                    }
                    await WaitUntilConnectedAsync(stop).ConfigureAwait(false);
                }
                tasks.Clear();
                foreach (var m in batch)
                {
                    tasks.Add(StartPublish(m, stop));
                }
                var failed = new List<MqttApplicationMessage>();
                for (var i = 0; i < tasks.Count; i++)
                {
                    try
                    {
                        var result = await tasks[i].ConfigureAwait(false);
                        if (!result.IsSuccess)
                        {
                            LogPublishRefused(_logger, ClientId, batch[i].Topic, result.ReasonCode.ToString());
                        }
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        throw;
                    }
                    catch (Exception ex) when (IsConnectionFailure(ex) || !_client.IsConnected)
                    {
                        // The connection dropped under this message: it is sent again after reconnecting
                        // (at-least-once; receivers tolerate duplicates).
                        failed.Add(batch[i]);
                    }
                    catch (Exception ex)
                    {
                        // Connected, and the client still refuses this message (e.g. a topic it finds invalid):
                        // sending it again would block everything queued behind it.
                        LogPublishDropped(_logger, ClientId, batch[i].Topic, ex.Message);
                    }
                }
                batch.Clear();
                batch.AddRange(failed);
                if (failed.Count > 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50), _time, stop).ConfigureAwait(false);
                }
            }
        }
    }

    // MQTTnet checks the connection before it returns a task: a connection lost between our IsConnected check and
    // the call throws here, synchronously. Turned into a failed task so it is handled like any other lost message.
    private Task<MqttClientPublishResult> StartPublish(MqttApplicationMessage message, CancellationToken stop)
    {
        try
        {
            return _client.PublishAsync(message, stop);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Task.FromException<MqttClientPublishResult>(ex);
        }
    }

    private static bool IsConnectionFailure(Exception ex) =>
        ex is MQTTnet.Exceptions.MqttCommunicationException or ObjectDisposedException or IOException
            or System.Net.Sockets.SocketException;

    // _connected is replaced when the connection drops; a stale, completed one is not trusted: wait for the
    // client itself to say it is connected (checked at least every 100 ms).
    private async Task WaitUntilConnectedAsync(CancellationToken stop)
    {
        while (!_client.IsConnected)
        {
            try
            {
                await _connected.Task.WaitAsync(TimeSpan.FromMilliseconds(100), _time, stop).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
            if (_connected.Task.IsCompleted && !_client.IsConnected)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), _time, stop).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits until everything queued has been handed to the broker (or the timeout passes).</summary>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        while (_outgoing.Reader.Count > 0 && _time.GetTimestamp() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
        }
        // The last batch may still be awaiting its acknowledgements.
        await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
        return _outgoing.Reader.Count == 0;
    }

    /// <summary>Publishes <c>offline</c>, drains the queue for up to <paramref name="drainTimeout"/>, disconnects.</summary>
    public async Task StopAsync(TimeSpan drainTimeout)
    {
        if (_stop.IsCancellationRequested || _stopping)
        {
            return;
        }
        _stopping = true;
        try
        {
            if (_client.IsConnected)
            {
                await DrainAsync(drainTimeout).ConfigureAwait(false);
                await _client.PublishAsync(StatusMessage(_status with { State = ServiceStatus.Offline, Details = null, TimestampUtc = _time.GetUtcNow() }))
                    .ConfigureAwait(false);
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder()
                    .WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build()).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogStopFailed(_logger, ClientId, ex.Message);
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var pending in _pending.Values)
        {
            pending.TrySetCanceled();
        }
        await WaitQuietlyAsync(_connectLoop).ConfigureAwait(false);
        await WaitQuietlyAsync(_publishLoop).ConfigureAwait(false);
        foreach (var subscription in _subscriptions.Values)
        {
            subscription.Queue.Writer.TryComplete();
            await WaitQuietlyAsync(subscription.Worker).ConfigureAwait(false);
        }
    }

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

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        await StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        _disposed = true;
        _client.Dispose();
        _stop.Dispose();
        _connectedSignal.Dispose();
    }

    private readonly record struct Delivery(IncomingMessage Message, PendingAcknowledgement? Ack);

    /// <summary>A QoS 1 message held unacknowledged until every subscription that asked for it has handled it.</summary>
    private sealed class PendingAcknowledgement(MqttApplicationMessageReceivedEventArgs args, int holders, int epoch, Func<int> currentEpoch)
    {
        private int _holders = holders;

        public async Task HandledAsync(CancellationToken cancellationToken)
        {
            // After a reconnect the packet id may name another message; the broker redelivers this one instead.
            if (Interlocked.Decrement(ref _holders) != 0 || currentEpoch() != epoch)
            {
                return;
            }
            try
            {
                await args.AcknowledgeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The connection it came on is gone: the broker redelivers it on the next one.
            }
        }
    }

    private sealed class Subscription(string filter, MqttQualityOfServiceLevel qos, Func<IncomingMessage, CancellationToken, Task> handler, int capacity,
        bool acknowledgeAfterHandling)
    {
        private readonly string _matchFilter = StripShare(filter);

        public string Filter { get; } = filter;

        public MqttQualityOfServiceLevel Qos { get; } = qos;

        public Func<IncomingMessage, CancellationToken, Task> Handler { get; } = handler;

        public bool AcknowledgeAfterHandling { get; } = acknowledgeAfterHandling;

        public Channel<Delivery> Queue { get; } = Channel.CreateBounded<Delivery>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        public Task? Worker { get; set; }

        public bool Matches(string topic) =>
            MqttTopicFilterComparer.Compare(topic, _matchFilter) == MqttTopicFilterCompareResult.IsMatch;

        private static string StripShare(string filter)
        {
            if (!filter.StartsWith("$share/", StringComparison.Ordinal))
            {
                return filter;
            }
            var afterGroup = filter.IndexOf('/', "$share/".Length);
            return afterGroup < 0 ? filter : filter[(afterGroup + 1)..];
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{ClientId} connected to {Host}:{Port} (session present: {SessionPresent})")]
    private static partial void LogConnected(ILogger logger, string clientId, string host, int port, bool sessionPresent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{ClientId} cannot reach the MQTT broker at {Host}:{Port}, retrying in {DelayMs} ms: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string clientId, string host, int port, double delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{ClientId} lost the broker connection ({Reason}); reconnecting")]
    private static partial void LogDisconnected(ILogger logger, string clientId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: the broker refused the subscription to '{Filter}': {Code}")]
    private static partial void LogSubscribeRefused(ILogger logger, string clientId, string filter, string code);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: the broker refused a message on '{Topic}': {Code}")]
    private static partial void LogPublishRefused(ILogger logger, string clientId, string topic, string code);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: dropped a message on '{Topic}' the MQTT client refuses to send: {Reason}")]
    private static partial void LogPublishDropped(ILogger logger, string clientId, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: the publishing loop failed; it starts again")]
    private static partial void LogPublishLoopFailed(ILogger logger, Exception ex, string clientId);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: handling a message on '{Topic}' failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception ex, string clientId, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{ClientId}: clean stop failed: {Reason}")]
    private static partial void LogStopFailed(ILogger logger, string clientId, string reason);
}
