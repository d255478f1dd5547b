using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Protocol;

namespace Seccm.Host.Bench;

/// <summary>
/// The raw MQTT round trip of <c>seccm-bench mqtt</c> (bare MQTTnet clients: publish, echo, receive; QoS 1 both ways),
/// as a baseline other benches measure in their own run.
/// </summary>
internal sealed class RawRoundTrip : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly IMqttClient _echo;
    private readonly IMqttClient _requester;
    private readonly string _pingTopic;
    private readonly string _pongTopic;
    private readonly Channel<byte[]> _echoQueue = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _echoLoop;
    private TaskCompletionSource<byte[]>? _waiting;

    private RawRoundTrip(IMqttClient echo, IMqttClient requester, string prefix)
    {
        _echo = echo;
        _requester = requester;
        _pingTopic = $"{prefix}/raw/ping";
        _pongTopic = $"{prefix}/raw/pong";
        // The echo republishes from a loop, not from inside the receive handler, just as MqttBus hands messages to a queue.
        _echo.ApplicationMessageReceivedAsync += e =>
        {
            _echoQueue.Writer.TryWrite(e.ApplicationMessage.Payload.ToArray());
            return Task.CompletedTask;
        };
        _requester.ApplicationMessageReceivedAsync += e =>
        {
            Volatile.Read(ref _waiting)?.TrySetResult(e.ApplicationMessage.Payload.ToArray());
            return Task.CompletedTask;
        };
        _echoLoop = Task.Run(async () =>
        {
            await foreach (var payload in _echoQueue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                await _echo.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(_pongTopic).WithPayload(payload)
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), _stop.Token).ConfigureAwait(false);
            }
        }, CancellationToken.None);
    }

    public static async Task<RawRoundTrip> OpenAsync(BenchBroker broker, string clientPrefix, CancellationToken cancellationToken)
    {
        var echo = await broker.ConnectRawAsync($"{clientPrefix}-echo", cancellationToken).ConfigureAwait(false);
        var requester = await broker.ConnectRawAsync($"{clientPrefix}-req", cancellationToken).ConfigureAwait(false);
        var raw = new RawRoundTrip(echo, requester, $"seccm-bench/{clientPrefix}");
        await BenchBroker.SubscribeAsync(echo, raw._pingTopic, cancellationToken).ConfigureAwait(false);
        await BenchBroker.SubscribeAsync(requester, raw._pongTopic, cancellationToken).ConfigureAwait(false);
        return raw;
    }

    /// <summary>One round trip in milliseconds.</summary>
    public async Task<double> MeasureAsync(int i, CancellationToken cancellationToken)
    {
        var payload = System.Text.Encoding.ASCII.GetBytes(i.ToString(CultureInfo.InvariantCulture));
        var reply = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _waiting, reply);
        var started = Stopwatch.GetTimestamp();
        await _requester.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(_pingTopic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
        try
        {
            await reply.Task.WaitAsync(Timeout, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new BenchException($"no echo on '{_pongTopic}' within {Timeout.TotalSeconds} s");
        }
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _echoLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _echo.Dispose();
        _requester.Dispose();
        _stop.Dispose();
    }
}
