using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace Seccm.Messaging.Bus;

/// <summary>
/// The subscriptions of one bus: hands each received message to every subscription whose filter matches (one queue and
/// one handler task per subscription, in order), holds QoS 1 acknowledgements until the handlers that asked for it are
/// done, and parks messages that arrive before their subscription is registered.
/// </summary>
internal sealed partial class SubscriptionRouter(MqttConnection connection, string clientId, ILogger logger)
{
    private const int MaxParked = 10_000;
    private readonly List<IncomingMessage> _parked = [];
    private readonly ConcurrentDictionary<string, Subscription> _subscriptions = new();
    private readonly ConcurrentDictionary<Task, byte> _subscribing = new();

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

    public int Backlog => _subscriptions.Values.Sum(s => s.Queue.Reader.Count);

    /// <summary>
    /// Adds a subscription. With <paramref name="shareGroup"/> it is an MQTT 5 shared subscription
    /// (<c>$share/{group}/{filter}</c>) where the broker offers them, else a plain one (then this client is the only member).
    /// </summary>
    public async Task AddAsync(string filter, Func<IncomingMessage, CancellationToken, Task> handler, MqttQualityOfServiceLevel qos, int capacity,
        bool acknowledgeAfterHandling, CancellationToken stop, string? shareGroup = null)
    {
        var subscription = new Subscription(filter, qos, handler, capacity, acknowledgeAfterHandling, shareGroup);
        List<IncomingMessage> parked;
        // Under the parking lock: a message that found no subscription is parked before this looks, or sees this one.
        lock (_parked)
        {
            if (!_subscriptions.TryAdd(subscription.Key, subscription))
            {
                if (_subscriptions.TryGetValue(subscription.Key, out var existing) && existing.TakeHandler(handler))
                {
                    return;
                }
                throw new InvalidOperationException($"{clientId} already subscribes to '{subscription.Key}'.");
            }
            parked = Unpark(subscription);
        }
        foreach (var message in parked)
        {
            subscription.Queue.Writer.TryWrite(new Delivery(message, null));
        }
        subscription.Worker = Task.Run(() => RunAsync(subscription, stop), CancellationToken.None);
        if (connection.IsConnected)
        {
            await SubscribeOnBrokerAsync(subscription, stop).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Also hands the messages of <paramref name="filter"/> to <paramref name="observer"/> (the bus's own bookkeeping),
    /// beside any handler a service has or will have for the same filter.
    /// </summary>
    public async Task ObserveAsync(string filter, Func<IncomingMessage, CancellationToken, Task> observer, CancellationToken stop)
    {
        var created = new Subscription(filter, MqttQualityOfServiceLevel.AtLeastOnce, null, 10_000, acknowledgeAfterHandling: false, shareGroup: null);
        var subscription = _subscriptions.GetOrAdd(created.Key, created);
        subscription.AddObserver(observer);
        if (subscription != created)
        {
            return;
        }
        subscription.Worker = Task.Run(() => RunAsync(subscription, stop), CancellationToken.None);
        if (connection.IsConnected)
        {
            await SubscribeOnBrokerAsync(subscription, stop).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the broker's answer to every subscription sent so far (a lost connection ends the wait; the next one subscribes again).</summary>
    public async Task WaitSubscribedAsync()
    {
        try
        {
            await Task.WhenAll(_subscribing.Keys).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
        }
    }

    /// <summary>After a (re)connection: every filter again (a persistent session may have them, a fresh one not).</summary>
    public async Task SubscribeAllOnBrokerAsync(CancellationToken stop)
    {
        foreach (var subscription in _subscriptions.Values)
        {
            await SubscribeOnBrokerAsync(subscription, stop).ConfigureAwait(false);
        }
    }

    public async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e, CancellationToken stop)
    {
        var message = e.ApplicationMessage;
        var incoming = new IncomingMessage(
            message.Topic,
            message.Payload.ToArray(),
            message.Retain,
            message.ResponseTopic,
            message.CorrelationData,
            message.SubscriptionIdentifiers is { Count: > 0 } ids ? [.. ids] : null);

        var matching = _subscriptions.Values.Where(s => s.Wants(incoming)).ToList();
        if (matching.Count == 0)
        {
            // Looked again under the lock AddAsync holds while it registers and unparks, so the message is either
            // parked before a new subscription takes the parked ones, or delivered to it: never parked after.
            lock (_parked)
            {
                matching = _subscriptions.Values.Where(s => s.Wants(incoming)).ToList();
                if (matching.Count == 0)
                {
                    Park(incoming);
                    return;
                }
            }
        }
        var holders = message.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce ? 0 : matching.Count(s => s.AcknowledgeAfterHandling);
        PendingAcknowledgement? ack = null;
        if (holders > 0)
        {
            e.AutoAcknowledge = false;
            ack = new PendingAcknowledgement(e, holders, connection.Epoch, () => connection.Epoch);
        }
        foreach (var subscription in matching)
        {
            await subscription.Queue.Writer.WriteAsync(new Delivery(incoming, subscription.AcknowledgeAfterHandling ? ack : null), stop)
                .ConfigureAwait(false);
        }
    }

    /// <summary>Lets every handler finish what it has (the stop token is already cancelled) and waits for it.</summary>
    public async Task CompleteAsync()
    {
        foreach (var subscription in _subscriptions.Values)
        {
            subscription.Queue.Writer.TryComplete();
            if (subscription.Worker is { } worker)
            {
                try
                {
                    await worker.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
                {
                }
            }
        }
    }

    private async Task SubscribeOnBrokerAsync(Subscription subscription, CancellationToken cancellationToken)
    {
        var subscribing = SendSubscribeAsync(subscription, cancellationToken);
        _subscribing.TryAdd(subscribing, 0);
        try
        {
            await subscribing.ConfigureAwait(false);
        }
        finally
        {
            _subscribing.TryRemove(subscribing, out _);
        }
    }

    private async Task SendSubscribeAsync(Subscription subscription, CancellationToken cancellationToken)
    {
        var onBroker = subscription.ShareGroup is { } group && connection.SharedSubscriptionsAvailable
            ? Contracts.Topics.Topic.Shared(group, subscription.Filter)
            : subscription.Filter;
        // The identifier tells which subscription a copy came through when filters overlap (cmd/+ and a shared cmd/export).
        var builder = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(onBroker).WithQualityOfServiceLevel(subscription.Qos));
        if (connection.SubscriptionIdentifiersAvailable)
        {
            builder.WithSubscriptionIdentifier(subscription.Id);
        }
        var options = builder.Build();
        var result = await connection.Client.SubscribeAsync(options, cancellationToken).ConfigureAwait(false);
        foreach (var item in result.Items)
        {
            if ((int)item.ResultCode > 2)
            {
                LogSubscribeRefused(logger, clientId, subscription.Filter, item.ResultCode.ToString());
            }
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
            var taken = _parked.Where(subscription.Wants).ToList();
            _parked.RemoveAll(subscription.Wants);
            return taken;
        }
    }

    private async Task RunAsync(Subscription subscription, CancellationToken stop)
    {
        try
        {
            await foreach (var (message, ack) in subscription.Queue.Reader.ReadAllAsync(stop).ConfigureAwait(false))
            {
                foreach (var handler in subscription.Handlers())
                {
                    try
                    {
                        await handler(message, stop).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        // Not acknowledged: the broker delivers it again to the next session.
                        return;
                    }
                    catch (Exception ex)
                    {
                        LogHandlerFailed(logger, ex, clientId, message.Topic);
                    }
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

    // FNV-1a of the key, in the range MQTT 5 allows (1 .. 268,435,455).
    private static uint IdOf(string key)
    {
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }
        return hash % 268_435_455u + 1;
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

    private sealed class Subscription(string filter, MqttQualityOfServiceLevel qos, Func<IncomingMessage, CancellationToken, Task>? handler, int capacity,
        bool acknowledgeAfterHandling, string? shareGroup)
    {
        private readonly string _matchFilter = TopicFilter.WithoutShare(filter);

        /// <summary>The filter with its share group: what tells this subscription from the others of this client.</summary>
        public string Key { get; } = shareGroup is null ? filter : Contracts.Topics.Topic.Shared(shareGroup, filter);

        public string? ShareGroup { get; } = shareGroup;

        /// <summary>The MQTT 5 subscription identifier: from the key, so a restarted process uses the ids its persistent session holds.</summary>
        public uint Id => IdOf(Key);
        private readonly Lock _gate = new();
        private Func<IncomingMessage, CancellationToken, Task>? _handler = handler;
        private Func<IncomingMessage, CancellationToken, Task>[] _observers = [];

        public string Filter { get; } = filter;

        public MqttQualityOfServiceLevel Qos { get; } = qos;

        /// <summary>The service's handler first, then the bus's observers.</summary>
        public IEnumerable<Func<IncomingMessage, CancellationToken, Task>> Handlers()
        {
            lock (_gate)
            {
                return _handler is null ? _observers : [_handler, .. _observers];
            }
        }

        /// <summary>A service subscribes to a filter so far only observed: its handler joins.</summary>
        public bool TakeHandler(Func<IncomingMessage, CancellationToken, Task> handler)
        {
            lock (_gate)
            {
                if (_handler is not null)
                {
                    return false;
                }
                _handler = handler;
                return true;
            }
        }

        public void AddObserver(Func<IncomingMessage, CancellationToken, Task> observer)
        {
            lock (_gate)
            {
                _observers = [.. _observers, observer];
            }
        }

        public bool AcknowledgeAfterHandling { get; } = acknowledgeAfterHandling;

        public Channel<Delivery> Queue { get; } = Channel.CreateBounded<Delivery>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        public Task? Worker { get; set; }

        public bool Matches(string topic) => TopicFilter.Matches(_matchFilter, topic);

        /// <summary>A copy that names subscription identifiers is for those subscriptions only; one without is matched by topic.</summary>
        public bool Wants(IncomingMessage message) =>
            message.SubscriptionIds is { } ids ? ids.Contains(Id) : Matches(message.Topic);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: the broker refused the subscription to '{Filter}': {Code}")]
    private static partial void LogSubscribeRefused(ILogger logger, string clientId, string filter, string code);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: handling a message on '{Topic}' failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception ex, string clientId, string topic);
}
