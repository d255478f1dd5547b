using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Topics;
using Seccm.Host.Hosting;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.TestSupport;

namespace Seccm.Host.Tests.Hosting;

public sealed class ClientBusTests
{
    /// <summary>
    /// <c>seccm demo</c> and the reproductions start a host and then the scan: a start sent while the scan service was
    /// still connecting reached a broker with no subscriber and was lost (seen as "No reply to .../scan/cmd/start within
    /// 10 s" on a loaded machine). The client now waits for the service's <c>online</c>, which a service announces only
    /// after its commands are subscribed; an offline or malformed status is waited past.
    /// </summary>
    [Fact]
    public async Task Waiting_for_online_ends_only_on_the_services_online_status_and_a_command_sent_then_is_answered()
    {
        await using var broker = await MosquittoServer.StartAsync();
        var mqtt = new MqttOptions { Host = "127.0.0.1", Port = broker.Port };
        await using var other = new MqttBus("cli2", new SeccmOptions { Instrument = "t1" }, mqtt, NullLogger.Instance, TimeProvider.System);
        await other.StartAsync(CancellationToken.None);
        await other.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
        var statusTopic = Topic.Status("t1", "scan");
        // "online" but without the rest of a status: malformed, logged and waited past.
        await other.PublishRawAsync(statusTopic, """{"state":"online"}"""u8.ToArray(), retain: true);
        await using var client = await ConnectAsync(broker.Port);
        var offlineRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var online = ClientBus.WaitOnlineAsync(client, "scan", TimeSpan.FromMinutes(2), CancellationToken.None,
            status => { if (status.State == ServiceStatus.Offline) offlineRead.TrySetResult(); });
        await other.PublishConfirmedAsync(statusTopic,
            new ServiceStatus("scan", "t1", ServiceStatus.Offline, "1", DateTimeOffset.UnixEpoch, null, "scan-t1"), retain: true);
        // Neither status may end the wait (the service does not exist yet); both were read before it starts.
        await offlineRead.Task.WaitAsync(TimeSpan.FromMinutes(2));

        await using var scan = new MqttBus("scan", new SeccmOptions { Instrument = "t1" }, mqtt, NullLogger.Instance, TimeProvider.System);
        await scan.StartAsync(CancellationToken.None, announceOnline: false);
        await scan.MapCommandAsync<PingCommand, PingResult>("echo", (e, _) => Task.FromResult(new PingResult("scan", "t1", DateTimeOffset.UnixEpoch, e.Text + "!")));
        await scan.AnnounceOnlineAsync(CancellationToken.None);

        var status = await online.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal((ServiceStatus.Online, scan.ClientId), (status.State, status.ClientId));
        var reply = await client.CallAsync<PingCommand, PingResult>("scan", "echo", new PingCommand("hi"), TimeSpan.FromMinutes(1));
        Assert.Equal("hi!", reply.Text);
    }

    [Fact]
    public async Task A_service_that_never_comes_online_is_named_when_the_wait_gives_up()
    {
        await using var broker = await MosquittoServer.StartAsync();
        await using var client = await ConnectAsync(broker.Port);
        var ex = await Assert.ThrowsAsync<StartupException>(() => ClientBus.WaitOnlineAsync(client, "scan", TimeSpan.FromMilliseconds(200), CancellationToken.None));
        Assert.Equal("The scan service of instrument 't1' did not come online within 0 s.", ex.Message);
    }

    private static async Task<MqttBus> ConnectAsync(int port)
    {
        var bus = new MqttBus(ServiceNames.Cli, new SeccmOptions { Instrument = "t1" }, new MqttOptions { Host = "127.0.0.1", Port = port },
            NullLogger.Instance, TimeProvider.System);
        await bus.StartAsync(CancellationToken.None);
        await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
        return bus;
    }
}
