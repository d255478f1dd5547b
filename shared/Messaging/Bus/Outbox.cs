using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace Seccm.Messaging.Bus;

/// <summary>
/// The queue of outgoing messages and the one task that hands them to the broker, a window at a time: QoS 1 messages
/// wait through a lost connection and are sent again (at-least-once); QoS 0 messages are dropped while disconnected.
/// </summary>
internal sealed partial class Outbox
{
    private const int PublishWindow = 64;
    private readonly MqttConnection _connection;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _clientId;
    private readonly Channel<MqttApplicationMessage> _queue;

    public Outbox(MqttConnection connection, int capacity, string clientId, ILogger logger, TimeProvider time)
    {
        _connection = connection;
        _clientId = clientId;
        _logger = logger;
        _time = time;
        _queue = Channel.CreateBounded<MqttApplicationMessage>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Number of messages waiting to be published.</summary>
    public int Count => _queue.Reader.Count;

    public ValueTask EnqueueAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        if (message.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce && !_connection.IsConnected)
        {
            return ValueTask.CompletedTask;
        }
        return _queue.Writer.WriteAsync(message, cancellationToken);
    }

    /// <summary>
    /// Publishes past the queue and returns when the broker has acknowledged, waiting through reconnects. A message
    /// the client refuses while connected (not a lost connection) throws instead of being tried forever.
    /// </summary>
    public async Task PublishConfirmedAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        while (true)
        {
            await _connection.WaitUntilConnectedAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var result = await _connection.StartPublish(message, cancellationToken).ConfigureAwait(false);
                if (!result.IsSuccess)
                {
                    LogPublishRefused(_logger, _clientId, message.Topic, result.ReasonCode.ToString());
                }
                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested
                && (ex is OperationCanceledException || MqttConnection.IsConnectionFailure(ex) || !_connection.IsConnected))
            {
                // The connection dropped under it: send it again once connected (at-least-once), as the queue does.
                await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits until everything queued has been handed to the broker (or the timeout passes).</summary>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        while (_queue.Reader.Count > 0 && _time.GetTimestamp() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
        }
        // The last batch may still be awaiting its acknowledgements.
        await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
        return _queue.Reader.Count == 0;
    }

    // The one task that hands queued messages to the broker. It must outlive every failure: when it ended, nothing
    // (replies included) was ever sent again and the service looked alive but deaf (seen after a broker SIGKILL).
    public async Task RunAsync(CancellationToken stop)
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
                LogPublishLoopFailed(_logger, ex, _clientId);
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
        while (batch.Count > 0 || await _queue.Reader.WaitToReadAsync(stop).ConfigureAwait(false))
        {
            while (batch.Count < PublishWindow && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            while (batch.Count > 0)
            {
                if (!_connection.IsConnected)
                {
                    batch.RemoveAll(m => m.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce);
                    if (batch.Count == 0)
                    {
                        break;
                    }
                    await _connection.WaitUntilConnectedAsync(stop).ConfigureAwait(false);
                }
                tasks.Clear();
                foreach (var m in batch)
                {
                    tasks.Add(_connection.StartPublish(m, stop));
                }
                var failed = new List<MqttApplicationMessage>();
                for (var i = 0; i < tasks.Count; i++)
                {
                    try
                    {
                        var result = await tasks[i].ConfigureAwait(false);
                        if (!result.IsSuccess)
                        {
                            LogPublishRefused(_logger, _clientId, batch[i].Topic, result.ReasonCode.ToString());
                        }
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        throw;
                    }
                    catch (Exception ex) when (MqttConnection.IsConnectionFailure(ex) || !_connection.IsConnected)
                    {
                        // The connection dropped under this message: it is sent again after reconnecting
                        // (at-least-once; receivers tolerate duplicates).
                        failed.Add(batch[i]);
                    }
                    catch (Exception ex)
                    {
                        // Connected, and the client still refuses this message (e.g. a topic it finds invalid):
                        // sending it again would block everything queued behind it.
                        LogPublishDropped(_logger, _clientId, batch[i].Topic, ex.Message);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: the broker refused a message on '{Topic}': {Code}")]
    private static partial void LogPublishRefused(ILogger logger, string clientId, string topic, string code);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: dropped a message on '{Topic}' the MQTT client refuses to send: {Reason}")]
    private static partial void LogPublishDropped(ILogger logger, string clientId, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: the publishing loop failed; it starts again")]
    private static partial void LogPublishLoopFailed(ILogger logger, Exception ex, string clientId);
}
