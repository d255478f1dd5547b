using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Broker;

namespace Seccm.Host.Bench;

/// <summary>
/// The broker a bench talks to: the one given with --mqtt-host/--mqtt-port, or an embedded MQTTnet broker on a free
/// loopback port that lives as long as the bench.
/// </summary>
internal sealed class BenchBroker : IAsyncDisposable
{
    private readonly EmbeddedBroker? _embedded;

    private BenchBroker(string host, int port, EmbeddedBroker? embedded)
    {
        Host = host;
        Port = port;
        _embedded = embedded;
    }

    public string Host { get; }

    public int Port { get; }

    public string Kind => _embedded is null ? $"external {Host}:{Port}" : $"embedded MQTTnet 127.0.0.1:{Port}";

    public static async Task<BenchBroker> OpenAsync(string? host, int? port, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(host))
        {
            return new BenchBroker(host, port ?? 1883, null);
        }
        int free = port ?? FreeLoopbackPort();
        var broker = new EmbeddedBroker(IPAddress.Loopback, free, NullLogger<EmbeddedBroker>.Instance);
        await broker.StartAsync(cancellationToken).ConfigureAwait(false);
        return new BenchBroker("127.0.0.1", free, broker);
    }

    /// <summary>A bare MQTT 5 client (no reconnects, no queue): the raw side of the comparisons.</summary>
    public async Task<IMqttClient> ConnectRawAsync(string clientId, CancellationToken cancellationToken)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(Host, Port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId(clientId)
            .WithCleanStart(true)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
        try
        {
            await client.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or SocketException or OperationCanceledException)
        {
            client.Dispose();
            throw new BenchException($"cannot connect to the MQTT broker at {Host}:{Port}: {ex.Message}");
        }
        return client;
    }

    public static Task SubscribeAsync(IMqttClient client, string filter, CancellationToken cancellationToken) =>
        client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(filter).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce))
            .Build(), cancellationToken);

    /// <summary>Removes a retained message (empty retained payload) so benches leave no status behind on a shared broker.</summary>
    public static Task ClearRetainedAsync(IMqttClient client, string topic, CancellationToken cancellationToken) =>
        client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(Array.Empty<byte>())
            .WithRetainFlag()
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build(), cancellationToken);

    /// <summary>Removes the retained statuses a bench's services left, so nothing stays on a shared broker.</summary>
    public async Task ClearStatusesAsync(string instrument, IEnumerable<string> services, CancellationToken cancellationToken)
    {
        using var cleaner = await ConnectRawAsync($"{instrument}-clean", cancellationToken).ConfigureAwait(false);
        foreach (var service in services)
        {
            await ClearRetainedAsync(cleaner, Topic.Status(instrument, service), cancellationToken).ConfigureAwait(false);
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_embedded is not null)
        {
            await _embedded.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>A bench could not run (broker away, child process failed); printed without a stack trace, exit 1.</summary>
internal sealed class BenchException(string message) : Exception(message);
