using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using Seccm.Messaging.Hosting;

namespace Seccm.Messaging.Bus;

/// <summary>
/// The MQTT 5 client of one bus: connects with backoff and a persistent session, and on every (re)connection lets the
/// bus re-subscribe and publish its status before anyone waiting for the connection goes on; counts the drops.
/// </summary>
internal sealed partial class MqttConnection : IDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);
    private readonly MqttOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _clientId;
    private readonly string _statusTopic;
    private readonly Func<byte[]> _will;
    private readonly Func<CancellationToken, Task> _onConnected;
    private readonly SemaphoreSlim _connectedSignal = new(0);
    private volatile TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _epoch;

    // will: the last will's payload, read at each connection attempt; onConnected: runs after each CONNACK
    // (subscriptions, status) before the connection counts as made.
    public MqttConnection(string clientId, string statusTopic, MqttOptions options, ILogger logger, TimeProvider time,
        Func<byte[]> will, Func<CancellationToken, Task> onConnected, Func<MqttApplicationMessageReceivedEventArgs, Task> onMessage)
    {
        _clientId = clientId;
        _statusTopic = statusTopic;
        _options = options;
        _logger = logger;
        _time = time;
        _will = will;
        _onConnected = onConnected;
        Client = new MqttClientFactory().CreateMqttClient();
        Client.ApplicationMessageReceivedAsync += onMessage;
        Client.DisconnectedAsync += OnDisconnectedAsync;
    }

    public IMqttClient Client { get; }

    public bool IsConnected => Client.IsConnected;

    /// <summary>Set while the bus stops on purpose: the drop is not worth a warning.</summary>
    public bool Stopping { get; set; }

    public bool SharedSubscriptionsAvailable { get; private set; }

    public bool SubscriptionIdentifiersAvailable { get; private set; }

    /// <summary>Changes whenever the connection drops (also on each failed attempt to make it again).</summary>
    public int Epoch => Volatile.Read(ref _epoch);

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
                $"{_clientId} could not connect to the MQTT broker at {_options.Host}:{_options.Port} within {timeout.TotalSeconds:0.#} s.");
        }
    }

    // _connected is replaced when the connection drops; a stale, completed one is not trusted: wait for the
    // client itself to say it is connected (checked at least every 100 ms).
    public async Task WaitUntilConnectedAsync(CancellationToken stop)
    {
        while (!Client.IsConnected)
        {
            try
            {
                await _connected.Task.WaitAsync(TimeSpan.FromMilliseconds(100), _time, stop).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
            if (_connected.Task.IsCompleted && !Client.IsConnected)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), _time, stop).ConfigureAwait(false);
            }
        }
    }

    // MQTTnet checks the connection before it returns a task: a connection lost between our IsConnected check and
    // the call throws here, synchronously. Turned into a failed task so it is handled like any other lost message.
    public Task<MqttClientPublishResult> StartPublish(MqttApplicationMessage message, CancellationToken stop)
    {
        try
        {
            return Client.PublishAsync(message, stop);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Task.FromException<MqttClientPublishResult>(ex);
        }
    }

    public static bool IsConnectionFailure(Exception ex) =>
        ex is MQTTnet.Exceptions.MqttCommunicationException or ObjectDisposedException or IOException
            or System.Net.Sockets.SocketException;

    public async Task RunAsync(CancellationToken stop)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stop.IsCancellationRequested)
        {
            if (Client.IsConnected)
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
                var result = await Client.ConnectAsync(BuildClientOptions(), stop).ConfigureAwait(false);
                if (result.ResultCode != MqttClientConnectResultCode.Success)
                {
                    throw new InvalidOperationException($"the broker refused the connection: {result.ResultCode} {result.ReasonString}");
                }
                SharedSubscriptionsAvailable = result.SharedSubscriptionAvailable;
                SubscriptionIdentifiersAvailable = result.SubscriptionIdentifiersAvailable;
                LogConnected(_logger, _clientId, _options.Host, _options.Port, result.IsSessionPresent);
                await _onConnected(stop).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(100);
                _connected.TrySetResult();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogConnectFailed(_logger, _clientId, _options.Host, _options.Port, backoff.TotalMilliseconds, ex.Message);
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
        Interlocked.Increment(ref _epoch);
        if (_connected.Task.IsCompleted)
        {
            _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        if (!Stopping && e.ClientWasConnected)
        {
            LogDisconnected(_logger, _clientId, e.Reason.ToString());
        }
        _connectedSignal.Release();
        return Task.CompletedTask;
    }

    private MqttClientOptions BuildClientOptions()
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Host, _options.Port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId(_clientId)
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)_options.SessionExpirySeconds)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(_options.KeepAliveSeconds))
            .WithTimeout(TimeSpan.FromSeconds(5))
            .WithWillTopic(_statusTopic)
            .WithWillPayload(_will())
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

    public void Dispose()
    {
        Client.Dispose();
        _connectedSignal.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{ClientId} connected to {Host}:{Port} (session present: {SessionPresent})")]
    private static partial void LogConnected(ILogger logger, string clientId, string host, int port, bool sessionPresent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{ClientId} cannot reach the MQTT broker at {Host}:{Port}, retrying in {DelayMs} ms: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string clientId, string host, int port, double delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{ClientId} lost the broker connection ({Reason}); reconnecting")]
    private static partial void LogDisconnected(ILogger logger, string clientId, string reason);
}
