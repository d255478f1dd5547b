using System.Collections.Concurrent;
using System.Text;
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
    public async Task A_malformed_status_of_the_target_is_logged_by_topic_and_field_and_the_pending_request_still_gets_its_reply()
    {
        await using var broker = await MosquittoServer.StartAsync();
        var warnings = new ConcurrentQueue<string>();
        await using var client = await BusFactory.ConnectAsync(broker, ServiceNames.Scan, logger: CollectingLoggerProvider.Logger(warnings));
        using var stage = await ConnectSilentStageAsync(broker.Port);
        var command = new TaskCompletionSource<MqttApplicationMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        stage.ApplicationMessageReceivedAsync += e =>
        {
            command.TrySetResult(e.ApplicationMessage);
            return Task.CompletedTask;
        };

        var pending = client.RequestAsync(ServiceNames.Stage, "move", new EmptyCommand(), LongTimeout);
        var received = await command.Task.WaitAsync(LongTimeout);
        // "offline" but without a service: not a status by its contract, so it says nothing about the stage.
        await stage.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(Topic.Status("t1", ServiceNames.Stage))
            .WithPayload("{\"service\":\"\",\"instrument\":\"t1\",\"state\":\"offline\",\"version\":\"x\",\"timestampUtc\":\"2026-01-01T00:00:00Z\"}")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        await Eventually.TrueAsync(() => warnings.Any(w => w.Contains("seccm/t1/stage/status", StringComparison.Ordinal)
            && w.Contains("service must not be empty", StringComparison.Ordinal)), "the bad status logged with its topic and field");
        await AnswerAsync(stage, received, SeccmJson.Serialize(new CommandReply(true)));

        var reply = await pending;

        Assert.True(reply.Ok);
    }

    [Fact]
    public async Task A_malformed_reply_is_an_error_naming_its_topic_and_field_and_the_next_reply_is_read()
    {
        await using var broker = await MosquittoServer.StartAsync();
        await using var client = await BusFactory.ConnectAsync(broker, ServiceNames.Scan);
        using var stage = await ConnectSilentStageAsync(broker.Port);
        var answers = new Queue<string>(["{\"ok\":false}", "{\"ok\":true}"]);
        stage.ApplicationMessageReceivedAsync += e => AnswerAsync(stage, e.ApplicationMessage, Encoding.UTF8.GetBytes(answers.Dequeue()));

        var bad = await client.RequestAsync(ServiceNames.Stage, "move", new EmptyCommand(), LongTimeout);
        var good = await client.RequestAsync(ServiceNames.Stage, "move", new EmptyCommand(), LongTimeout);

        Assert.False(bad.Ok);
        Assert.Equal(ErrorCodes.BadPayload, bad.Error!.Code);
        Assert.Contains("seccm/t1/scan/reply/", bad.Error.Message, StringComparison.Ordinal);
        Assert.Contains("invalid CommandReply: error must be given when ok is false", bad.Error.Message, StringComparison.Ordinal);
        Assert.True(good.Ok);
    }

    [Fact]
    public async Task A_command_that_fails_its_own_checks_is_refused_by_the_same_check_events_use()
    {
        await using var broker = await MosquittoServer.StartAsync();
        await using var server = await BusFactory.ConnectAsync(broker, ServiceNames.Stage);
        var applied = 0;
        await server.MapCommandAsync<MoveProbe>("move", (_, _) =>
        {
            Interlocked.Increment(ref applied);
            return Task.CompletedTask;
        }, ProbeJson.Default.MoveProbe);
        await using var client = await BusFactory.ConnectAsync(broker, ServiceNames.Cli);

        var refused = await client.RequestRawAsync(Topic.Command("t1", ServiceNames.Stage, "move"), "{\"xUm\":-5,\"yUm\":1}"u8.ToArray(), LongTimeout);
        var sender = await Assert.ThrowsAsync<CommandException>(
            () => client.CallAsync(ServiceNames.Stage, "move", new MoveProbe(-5, 1), LongTimeout));

        Assert.Equal(ErrorCodes.InvalidArgument, refused.Error!.Code);
        Assert.Equal("seccm/t1/stage/cmd/move: invalid MoveProbe: xUm must be a finite number >= 0, not -5", refused.Error.Message);
        Assert.Equal(ErrorCodes.InvalidArgument, sender.Code);
        Assert.Equal("seccm/t1/stage/cmd/move (not sent): invalid MoveProbe: xUm must be a finite number >= 0, not -5", sender.Message);
        Assert.Equal(0, applied);
    }

    private static Task AnswerAsync(IMqttClient service, MqttApplicationMessage command, byte[] reply) =>
        service.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(command.ResponseTopic)
            .WithPayload(reply)
            .WithCorrelationData(command.CorrelationData)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());

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
            replies.Enqueue(SeccmJson.DeserializeValid<CommandReply>(m.Payload.Span, m.Topic));
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
