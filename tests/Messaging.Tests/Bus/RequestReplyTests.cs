using MQTTnet;
using MQTTnet.Protocol;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.TestSupport;

namespace Seccm.Messaging.Tests.Bus;

public sealed class RequestReplyTests
{
    // Far longer than the test needs: a request that waits it out instead of failing on the will is the defect.
    private static readonly TimeSpan LongTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_pending_request_fails_with_a_clear_error_when_the_target_goes_offline_and_the_next_fails_at_once()
    {
        await using var broker = await MosquittoServer.StartAsync();
        await using var client = await BusFactory.ConnectAsync(broker, ServiceNames.Scan);
        using var stage = await ConnectSilentStageAsync(broker.Port);
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stage.ApplicationMessageReceivedAsync += _ =>
        {
            received.TrySetResult();
            return Task.CompletedTask;
        };

        var pending = client.RequestAsync(ServiceNames.Stage, "move", new EmptyCommand(), LongTimeout);
        await received.Task.WaitAsync(LongTimeout);
        // The process dies: no DISCONNECT, so the broker publishes its last will (offline).
        stage.Dispose();

        var failed = await Assert.ThrowsAsync<CommandTargetOfflineException>(() => pending);
        Assert.Contains("seccm/t1/stage/cmd/move", failed.Message, StringComparison.Ordinal);
        Assert.Contains("stage went offline", failed.Message, StringComparison.Ordinal);

        var next = await Assert.ThrowsAsync<CommandTargetOfflineException>(
            () => client.RequestAsync(ServiceNames.Stage, "retract", new EmptyCommand(), LongTimeout));
        Assert.Contains("stage is offline", next.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_retained_offline_status_from_an_earlier_run_does_not_refuse_a_request_the_new_process_answers()
    {
        await using var broker = await MosquittoServer.StartAsync();
        // An earlier run of the stage subscribed and stopped: it leaves "offline" retained and its persistent session,
        // where commands wait until the next process with the same client id connects.
        var earlier = await BusFactory.ConnectAsync(broker, ServiceNames.Stage);
        await earlier.ListenForCommandsAsync(); // connected: returns once the broker has acknowledged the subscription
        await earlier.StopAsync(TimeSpan.FromSeconds(10));
        await earlier.DisposeAsync();
        await using var client = await BusFactory.ConnectAsync(broker, ServiceNames.Cli);
        var request = client.RequestAsync(ServiceNames.Stage, "ping", new PingCommand("hi"), LongTimeout);
        // The new process comes up after the request was sent (and after the client saw the retained offline).
        await using var stage = BusFactory.Create(broker.Port, ServiceNames.Stage);
        await stage.ListenForCommandsAsync();
        await stage.StartAsync(CancellationToken.None);

        var reply = await request;

        Assert.True(reply.Ok);
    }

    [Fact]
    public async Task A_retained_command_is_refused_not_carried_out_and_a_live_one_still_is()
    {
        await using var broker = await MosquittoServer.StartAsync();
        var commandTopic = Topic.Command("t1", ServiceNames.Stage, "count");
        // Someone typed -r: the broker keeps the command and hands it to every new subscription (each restart).
        await RunMosquittoPubAsync(broker.Port, commandTopic, "{}", retain: true);
        await using var watcher = await BusFactory.ConnectAsync(broker, ServiceNames.Cli);
        var replies = new System.Collections.Concurrent.ConcurrentQueue<CommandReply>();
        await watcher.SubscribeAsync(Topic.Event("t1", ServiceNames.Stage, MqttBus.UnaddressedReplyEvent), (m, _) =>
        {
            replies.Enqueue(SeccmJson.Deserialize<CommandReply>(m.Payload.Span, m.Topic));
            return Task.CompletedTask;
        });
        var runs = 0;
        await using var stage = BusFactory.Create(broker.Port, ServiceNames.Stage);
        await stage.MapCommandAsync<EmptyCommand>("count", (_, _) =>
        {
            Interlocked.Increment(ref runs);
            return Task.CompletedTask;
        });
        await stage.StartAsync(CancellationToken.None);

        await Eventually.TrueAsync(() => !replies.IsEmpty, "the reply to the retained command");
        var refused = Assert.Single(replies);
        Assert.False(refused.Ok);
        Assert.Equal(ErrorCodes.Refused, refused.Error!.Code);
        Assert.Contains(commandTopic, refused.Error.Message, StringComparison.Ordinal);
        Assert.Contains("retained", refused.Error.Message, StringComparison.Ordinal);

        await RunMosquittoPubAsync(broker.Port, commandTopic, "{}", retain: false);
        await Eventually.TrueAsync(() => replies.Count == 2, "the reply to the live command");
        Assert.True(replies.Last().Ok);
        Assert.Equal(1, Volatile.Read(ref runs));
    }

    private static async Task RunMosquittoPubAsync(int port, string topic, string payload, bool retain)
    {
        string[] args = ["-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-q", "1", "-t", topic, "-m", payload];
        using var pub = ExternalTool.Start(ExternalTool.Require("mosquitto_pub"), retain ? [.. args, "-r"] : args);
        await pub.Process.WaitForExitAsync();
        Assert.True(pub.Process.ExitCode == 0, $"mosquitto_pub failed: {pub.Output}");
    }

    private static async Task<IMqttClient> ConnectSilentStageAsync(int port)
    {
        var stage = new MqttClientFactory().CreateMqttClient();
        var will = SeccmJson.Serialize(new ServiceStatus(ServiceNames.Stage, "t1", ServiceStatus.Offline, "test", DateTimeOffset.UtcNow));
        await stage.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId("seccm-t1-stage")
            .WithWillTopic(Topic.Status("t1", ServiceNames.Stage))
            .WithWillPayload(will)
            .WithWillRetain()
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        await stage.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(Topic.Status("t1", ServiceNames.Stage))
            .WithPayload(SeccmJson.Serialize(new ServiceStatus(ServiceNames.Stage, "t1", ServiceStatus.Online, "test", DateTimeOffset.UtcNow)))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag()
            .Build());
        await stage.SubscribeAsync(Topic.CommandFilter("t1", ServiceNames.Stage), MqttQualityOfServiceLevel.AtLeastOnce);
        return stage;
    }
}
