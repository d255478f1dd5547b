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

    public async Task AddAsync(string filter, Func<IncomingMessage, CancellationToken, Task> handler, MqttQualityOfServiceLevel qos, int capacity,
        bool acknowledgeAfterHandling, CancellationToken stop)
    {
        var subscription = new Subscription(filter, qos, handler, capacity, acknowledgeAfterHandling);
        if (!_subscriptions.TryAdd(filter, subscription))
        {
            if (_subscriptions.TryGetValue(filter, out var existing) && existing.TakeHandler(handler))
            {
                return;
            }
            throw new InvalidOperationException($"{clientId} already subscribes to '{filter}'.");
        }
        foreach (var parked in Unpark(subscription))
        {
            subscription.Queue.Writer.TryWrite(new Delivery(parked, null));
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
        var created = new Subscription(filter, MqttQualityOfServiceLevel.AtLeastOnce, null, 10_000, acknowledgeAfterHandling: false);
        var subscription = _subscriptions.GetOrAdd(filter, created);
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
            message.CorrelationData);

        var matching = _subscriptions.Values.Where(s => s.Matches(message.Topic)).ToList();
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
        if (matching.Count == 0)
        {
            Park(incoming);
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
        var options = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(subscription.Filter).WithQualityOfServiceLevel(subscription.Qos))
            .Build();
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
            var taken = _parked.Where(m => subscription.Matches(m.Topic)).ToList();
            _parked.RemoveAll(m => subscription.Matches(m.Topic));
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
        bool acknowledgeAfterHandling)
    {
        private readonly string _matchFilter = TopicFilter.WithoutShare(filter);
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
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: the broker refused the subscription to '{Filter}': {Code}")]
    private static partial void LogSubscribeRefused(ILogger logger, string clientId, string filter, string code);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: handling a message on '{Topic}' failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception ex, string clientId, string topic);
}
