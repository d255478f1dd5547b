using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Server;
using MQTTnet.Server.Internal.Adapter;

namespace Seccm.Messaging.Broker;

/// <summary>
/// The in-process MQTT broker of the no-configuration default (MQTTnet.Server). It keeps sessions, so a
/// service that restarts within the process still gets its queued QoS 1 messages. It has no shared
/// subscriptions: diffusion then runs as a single worker (see DESIGN.md). Like mosquitto it gives a client
/// that connects without a client id one of its own and honours "Disconnect with Will Message" (see
/// <see cref="MosquittoLike"/>); what else differs from mosquitto is listed in the README ("Watch it from
/// another terminal").
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
        _server = new MqttServerFactory().CreateMqttServer(options, [new MosquittoLike.ServerAdapter(new MqttTcpServerAdapter())]);
        _server.ValidatingConnectionAsync += MosquittoLike.AssignClientIdForMqtt5;
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

    /// <summary>
    /// Where MQTTnet 5.2 treats the clients labs use otherwise than mosquitto does, and the fix.
    /// Client ids for clients that send none, as mosquitto gives them (<c>auto-</c> and a UUID): mosquitto_sub,
    /// mosquitto_rr and many libraries connect so. MQTT 5 clients get theirs back in the CONNACK (Assigned Client
    /// Identifier); MQTT 3.1.1 clients only with clean session (MQTT-3.1.3-8: otherwise "identifier rejected", as
    /// mosquitto answers); MQTT 3.1 clients never (its ids are 1-23 characters, and mosquitto refuses them too).
    /// MQTTnet assigns ids only for MQTT 5, so an MQTT 3.1.1 CONNECT gets its id before MQTTnet reads it.
    /// A DISCONNECT with reason 0x04, "Disconnect with Will Message", publishes the will (MQTT 5 3.14.2.1);
    /// MQTTnet drops the will on any DISCONNECT, so that one reaches it as a lost connection.
    /// </summary>
    internal static class MosquittoLike
    {
        public static string NewClientId() => "auto-" + Guid.NewGuid().ToString("D").ToUpperInvariant();

        public static Task AssignClientIdForMqtt5(ValidatingConnectionEventArgs e)
        {
            if (string.IsNullOrEmpty(e.ClientId) && e.ProtocolVersion == MqttProtocolVersion.V500)
            {
                e.AssignedClientIdentifier = NewClientId();
            }
            return Task.CompletedTask;
        }

        /// <summary>Hands every connection to the server through <see cref="Channel"/>.</summary>
        public sealed class ServerAdapter(IMqttServerAdapter inner) : IMqttServerAdapter
        {
            private Func<MQTTnet.Adapter.IMqttChannelAdapter, Task>? _clientHandler;

            public Func<MQTTnet.Adapter.IMqttChannelAdapter, Task>? ClientHandler
            {
                get => _clientHandler;
                set
                {
                    _clientHandler = value;
                    inner.ClientHandler = value is null ? null : channel => value(new Channel(channel));
                }
            }

            public Task StartAsync(MqttServerOptions options, IMqttNetLogger logger) => inner.StartAsync(options, logger);

            public Task StopAsync() => inner.StopAsync();

            public void Dispose() => inner.Dispose();
        }

        /// <summary>A connection as MQTTnet reads it, with the two packets above changed.</summary>
        private sealed class Channel(MQTTnet.Adapter.IMqttChannelAdapter inner) : MQTTnet.Adapter.IMqttChannelAdapter
        {
            private bool _connectSeen;

            public long BytesReceived => inner.BytesReceived;

            public long BytesSent => inner.BytesSent;

            public System.Security.Cryptography.X509Certificates.X509Certificate2 ClientCertificate => inner.ClientCertificate;

            public EndPoint RemoteEndPoint => inner.RemoteEndPoint;

            public EndPoint LocalEndPoint => inner.LocalEndPoint;

            public bool IsSecureConnection => inner.IsSecureConnection;

            public MqttPacketFormatterAdapter PacketFormatterAdapter => inner.PacketFormatterAdapter;

            public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

            public Task DisconnectAsync(CancellationToken cancellationToken) => inner.DisconnectAsync(cancellationToken);

            public async Task<MQTTnet.Packets.MqttPacket> ReceivePacketAsync(CancellationToken cancellationToken)
            {
                var packet = await inner.ReceivePacketAsync(cancellationToken).ConfigureAwait(false);
                if (!_connectSeen && packet is MQTTnet.Packets.MqttConnectPacket connect)
                {
                    _connectSeen = true;
                    if (string.IsNullOrEmpty(connect.ClientId) && connect.CleanSession &&
                        inner.PacketFormatterAdapter.ProtocolVersion == MqttProtocolVersion.V311)
                    {
                        connect.ClientId = NewClientId();
                    }
                }
                return packet is MQTTnet.Packets.MqttDisconnectPacket { ReasonCode: MQTTnet.Protocol.MqttDisconnectReasonCode.DisconnectWithWillMessage }
                    ? null!
                    : packet;
            }

            public void ResetStatistics() => inner.ResetStatistics();

            public Task SendPacketAsync(MQTTnet.Packets.MqttPacket packet, CancellationToken cancellationToken) =>
                inner.SendPacketAsync(packet, cancellationToken);

            public void Dispose() => inner.Dispose();
        }
    }
}
