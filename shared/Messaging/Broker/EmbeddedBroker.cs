using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet.Server;

namespace Seccm.Messaging.Broker;

/// <summary>
/// The in-process MQTT broker of the no-configuration default (MQTTnet.Server). It keeps sessions, so a
/// service that restarts within the process still gets its queued QoS 1 messages. It has no shared
/// subscriptions: diffusion then runs as a single worker (see DESIGN.md).
/// </summary>
public sealed partial class EmbeddedBroker(IPAddress address, int port, ILogger<EmbeddedBroker> logger) : IHostedService, IAsyncDisposable
{
    private MqttServer? _server;

    public int Port { get; } = port;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(address)
            .WithDefaultEndpointPort(Port)
            .WithPersistentSessions()
            .WithMaxPendingMessagesPerClient(1_000_000)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(options);
        try
        {
            await _server.StartAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException)
        {
            throw new InvalidOperationException(
                $"The embedded MQTT broker cannot listen on {address}:{Port} ({ex.Message}). Is another broker running there? " +
                "Stop it, choose another --mqtt-port, or pass --mqtt-host to use that broker.", ex);
        }
        LogStarted(logger, address.ToString(), Port);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.StopAsync().ConfigureAwait(false);
            _server.Dispose();
            _server = null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded MQTT broker listening on {Address}:{Port}")]
    private static partial void LogStarted(ILogger logger, string address, int port);
}
