using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Messaging.Hosting;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Integration.Tests.Security;

/// <summary>
/// The deployed broker security inside one instrument (the ACL and password file deploy/mosquitto/facility.sh writes, no
/// anonymous) on a real mosquitto. Across instruments: <see cref="FacilityAclTests"/>.
/// </summary>
public sealed class BrokerSecurityTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Anonymous_clients_are_refused()
    {
        await using var broker = await SecuredBroker.StartAsync("acl0");
        var (connected, detail) = await TryConnectAsync(broker, "anon", username: null, password: null);
        Assert.False(connected, $"an anonymous client got in: {detail}");
        output.WriteLine($"anonymous: {detail}");
    }

    [Fact]
    public async Task A_wrong_password_is_refused_and_the_right_one_accepted()
    {
        await using var broker = await SecuredBroker.StartAsync("acl0");
        var stage = SecuredBroker.User(ServiceNames.Stage, "acl0");
        var (wrong, wrongDetail) = await TryConnectAsync(broker, "wrong", stage, broker.Password(stage) + "x");
        Assert.False(wrong, $"stage got in with a wrong password: {wrongDetail}");
        var (other, otherDetail) = await TryConnectAsync(broker, "swap", stage, broker.Password(SecuredBroker.User(ServiceNames.Scan, "acl0")));
        Assert.False(other, $"stage got in with scan's password: {otherDetail}");
        var (right, rightDetail) = await TryConnectAsync(broker, "right", stage, broker.Password(stage));
        Assert.True(right, $"stage with its password was refused: {rightDetail}; mosquitto said: {broker.Server.Output}");
    }

    [Fact]
    public async Task Only_scan_and_operator_commands_reach_the_stage()
    {
        const string instrument = "acl1";
        await using var broker = await SecuredBroker.StartAsync(instrument);
        using var stage = await ConnectAsync(broker, "seccm-acl1-stage", SecuredBroker.User(ServiceNames.Stage, instrument));
        var received = new ConcurrentQueue<string>();
        stage.ApplicationMessageReceivedAsync += e =>
        {
            received.Enqueue(e.ApplicationMessage.ConvertPayloadToString());
            return Task.CompletedTask;
        };
        await stage.SubscribeAsync(Topic.CommandFilter(instrument, ServiceNames.Stage), MqttQualityOfServiceLevel.AtLeastOnce);

        var topic = Topic.Command(instrument, ServiceNames.Stage, "move");
        foreach (var intruder in new[] { SecuredBroker.Display, SecuredBroker.User(ServiceNames.Diffusion, instrument),
                     SecuredBroker.User(ServiceNames.Glovebox, instrument), SecuredBroker.User(ServiceNames.Potentiostat, instrument) })
        {
            using var client = await ConnectAsync(broker, $"seccm-acl1-{intruder.Replace('@', '-')}", intruder);
            var result = await client.PublishAsync(Message(topic, $"from {intruder}"));
            output.WriteLine($"{intruder} -> {topic}: {result.ReasonCode}");
        }
        // mosquitto handles messages in arrival order, and the intruders' publishes were acknowledged before
        // these are sent: had any of them been forwarded, it would arrive before the allowed ones.
        foreach (var (allowed, who) in new[] { (SecuredBroker.User(ServiceNames.Scan, instrument), "scan"), (SecuredBroker.Operator, "operator") })
        {
            using var client = await ConnectAsync(broker, $"seccm-acl1-{who}", allowed);
            await client.PublishAsync(Message(topic, $"from {who}"));
        }
        await Eventually.TrueAsync(() => received.Count >= 2, $"the scan and operator commands; got [{string.Join(", ", received)}]", Patience);
        Assert.Equal(["from scan", "from operator"], received.ToArray());
    }

    [Fact]
    public async Task The_scan_user_commands_the_stage_and_gets_its_reply_through_the_acl()
    {
        const string instrument = "acl2";
        await using var broker = await SecuredBroker.StartAsync(instrument);
        await using var stage = await BusAsync(broker, ServiceNames.Stage, instrument);
        await stage.ListenForCommandsAsync();
        await using var scan = await BusAsync(broker, ServiceNames.Scan, instrument);
        await using var cli = await BusAsync(broker, ServiceNames.Cli, instrument, SecuredBroker.Operator);

        // The stage's command subscription goes to the broker in the background: retry the first ping until it is in place.
        CommandReply? reply = null;
        await Eventually.TrueAsync(() =>
        {
            try
            {
                reply = scan.RequestAsync(ServiceNames.Stage, "ping", new PingCommand("acl"), TimeSpan.FromSeconds(2)).GetAwaiter().GetResult();
                return true;
            }
            catch (CommandTimeoutException)
            {
                return false;
            }
        }, $"a reply to scan's ping of the stage; mosquitto said: {broker.Server.Output}", Patience);
        Assert.True(reply!.Ok, $"stage answered an error: {reply.Error}");
        var pong = SeccmJson.Deserialize<PingResult>(reply.Result!.Value, "ping result");
        Assert.Equal(ServiceNames.Stage, pong.Service);
        Assert.Equal("acl", pong.Text);

        var operatorReply = await cli.RequestAsync(ServiceNames.Stage, "ping", new PingCommand("op"), Patience);
        Assert.True(operatorReply.Ok, $"stage answered the operator with an error: {operatorReply.Error}");
    }

    [Fact]
    public async Task The_display_user_cannot_command_and_gets_no_reply()
    {
        const string instrument = "acl3";
        await using var broker = await SecuredBroker.StartAsync(instrument);
        await using var stage = await BusAsync(broker, ServiceNames.Stage, instrument);
        await stage.ListenForCommandsAsync();
        await using var scan = await BusAsync(broker, ServiceNames.Scan, instrument);
        await Eventually.TrueAsync(() =>
        {
            try
            {
                return scan.RequestAsync(ServiceNames.Stage, "ping", new PingCommand(), TimeSpan.FromSeconds(2)).GetAwaiter().GetResult().Ok;
            }
            catch (CommandTimeoutException)
            {
                return false;
            }
        }, "the stage answers commands (control)", Patience);

        // The display user cannot even connect through MqttBus (mosquitto refuses a last will on a topic the user may not
        // write), so it speaks raw MQTT: a well-formed ping with a reply topic it can read.
        using var display = await ConnectAsync(broker, "seccm-acl3-display", SecuredBroker.Display);
        var replies = new ConcurrentQueue<string>();
        display.ApplicationMessageReceivedAsync += e =>
        {
            replies.Enqueue(e.ApplicationMessage.ConvertPayloadToString());
            return Task.CompletedTask;
        };
        var replyTopic = Topic.Reply(instrument, ServiceNames.Cli, "seccm-acl3-display");
        await display.SubscribeAsync(replyTopic, MqttQualityOfServiceLevel.AtLeastOnce);
        await display.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(Topic.Command(instrument, ServiceNames.Stage, "ping"))
            .WithPayload("{}")
            .WithResponseTopic(replyTopic)
            .WithCorrelationData([1, 2, 3, 4])
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        // A ping sent after the display's is answered; the display's, had it been delivered, would have been answered too.
        var control = await scan.RequestAsync(ServiceNames.Stage, "ping", new PingCommand("after"), Patience);
        Assert.True(control.Ok);
        Assert.Empty(replies);
    }

    [Fact]
    public async Task A_service_cannot_forge_another_services_status()
    {
        const string instrument = "acl4";
        await using var broker = await SecuredBroker.StartAsync(instrument);
        using var display = await ConnectAsync(broker, "seccm-acl4-display", SecuredBroker.Display);
        var received = new ConcurrentQueue<string>();
        display.ApplicationMessageReceivedAsync += e =>
        {
            received.Enqueue($"{e.ApplicationMessage.Topic}={e.ApplicationMessage.ConvertPayloadToString()}");
            return Task.CompletedTask;
        };
        await display.SubscribeAsync(Topic.StatusFilter(instrument), MqttQualityOfServiceLevel.AtLeastOnce);

        var gloveboxStatus = Topic.Status(instrument, ServiceNames.Glovebox);
        using (var potentiostat = await ConnectAsync(broker, "seccm-acl4-potentiostat", SecuredBroker.User(ServiceNames.Potentiostat, instrument)))
        {
            await potentiostat.PublishAsync(Message(gloveboxStatus, "forged"));
        }
        using (var glovebox = await ConnectAsync(broker, "seccm-acl4-glovebox", SecuredBroker.User(ServiceNames.Glovebox, instrument)))
        {
            await glovebox.PublishAsync(Message(gloveboxStatus, "genuine"));
        }
        await Eventually.TrueAsync(() => !received.IsEmpty, "the glovebox's own status", Patience);
        Assert.Equal([$"{gloveboxStatus}=genuine"], received.ToArray());
    }

    private static MqttApplicationMessage Message(string topic, string payload) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();

    private static async Task<(bool Connected, string Detail)> TryConnectAsync(SecuredBroker broker, string clientId, string? username, string? password)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(broker.Server.Host, broker.Server.Port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId(clientId)
            .WithTimeout(TimeSpan.FromSeconds(10));
        if (username is not null)
        {
            builder.WithCredentials(username, password);
        }
        try
        {
            var result = await client.ConnectAsync(builder.Build());
            return (result.ResultCode == MqttClientConnectResultCode.Success && client.IsConnected, result.ResultCode.ToString());
        }
        catch (MqttCommunicationException ex)
        {
            return (false, ex.Message);
        }
    }

    private static async Task<IMqttClient> ConnectAsync(SecuredBroker broker, string clientId, string user)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer(broker.Server.Host, broker.Server.Port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId(clientId)
            .WithCredentials(user, broker.Password(user))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build());
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return client;
    }

    /// <summary>A service's bus logged in as <paramref name="user"/>, by default the service's own user at the instrument.</summary>
    private static async Task<MqttBus> BusAsync(SecuredBroker broker, string service, string instrument, string? user = null)
    {
        user ??= SecuredBroker.User(service, instrument);
        var bus = new MqttBus(service, new SeccmOptions { Instrument = instrument },
            new MqttOptions { Host = broker.Server.Host, Port = broker.Server.Port, Username = user, Password = broker.Password(user) },
            NullLogger.Instance, TimeProvider.System);
        await bus.StartAsync(CancellationToken.None);
        await bus.WaitConnectedAsync(Patience, CancellationToken.None);
        return bus;
    }
}
