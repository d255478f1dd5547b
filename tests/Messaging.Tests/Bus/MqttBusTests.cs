using System.Collections.Concurrent;
using System.Text;
using CsCheck;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Commands;
using Seccm.TestSupport;

namespace Seccm.Messaging.Tests.Bus;

public sealed class MqttBusTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Request_reply_round_trip_carries_the_result()
    {
        await using var broker = await MosquittoServer.StartAsync();
        await using var server = await BusFactory.ConnectAsync(broker, ServiceNames.Stage);
        await server.ListenForCommandsAsync();
        await using var client = await BusFactory.ConnectAsync(broker, ServiceNames.Cli);

        var result = await client.CallAsync<PingCommand, PingResult>(ServiceNames.Stage, "ping", new PingCommand("hello"), Timeout);

        Assert.Equal("stage", result.Service);
        Assert.Equal("t1", result.Instrument);
        Assert.Equal("hello", result.Text);
    }

    [Fact]
    public async Task Unknown_verb_gets_an_error_reply_naming_the_verbs()
    {
        await using var broker = await MosquittoServer.StartAsync();
        await using var server = await BusFactory.ConnectAsync(broker, ServiceNames.Stage);
        await server.ListenForCommandsAsync();
        await using var client = await BusFactory.ConnectAsync(broker, ServiceNames.Cli);

        var reply = await client.RequestAsync(ServiceNames.Stage, "fly", new EmptyCommand(), Timeout);

        Assert.False(reply.Ok);
        Assert.Equal(ErrorCodes.UnknownCommand, reply.Error!.Code);
        Assert.Contains("ping", reply.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retained_status_is_online_and_the_clean_stop_leaves_offline()
    {
        await using var broker = await MosquittoServer.StartAsync();
        var server = await BusFactory.ConnectAsync(broker, ServiceNames.Glovebox);
        await using var watcher = await BusFactory.ConnectAsync(broker, ServiceNames.Cli);
        var states = new ConcurrentQueue<ServiceStatus>();
        await watcher.SubscribeAsync(Topic.Status("t1", ServiceNames.Glovebox), (m, _) =>
        {
            states.Enqueue(SeccmJson.Deserialize<ServiceStatus>(m.Payload.Span, m.Topic));
            return Task.CompletedTask;
        });

        await Eventually.TrueAsync(() => states.Any(s => s.IsOnline), "online status");
        await server.DisposeAsync();
        await Eventually.TrueAsync(() => states.LastOrDefault()?.State == ServiceStatus.Offline, "offline status after stop");
    }

    [Fact]
    public async Task A_qos1_command_sent_while_the_service_is_away_is_delivered_when_it_returns()
    {
        await using var broker = await MosquittoServer.StartAsync();
        var received = new ConcurrentQueue<string>();
        async Task<Seccm.Messaging.Bus.MqttBus> StartServerAsync()
        {
            var bus = await BusFactory.ConnectAsync(broker, ServiceNames.Potentiostat);
            await bus.MapCommandAsync<PingCommand>("note", (cmd, _) =>
            {
                received.Enqueue(cmd.Text ?? "");
                return Task.CompletedTask;
            });
            return bus;
        }

        var server = await StartServerAsync();
        await using var client = await BusFactory.ConnectAsync(broker, ServiceNames.Cli);
        await client.CallAsync(ServiceNames.Potentiostat, "note", new PingCommand("before"), Timeout);
        await server.DisposeAsync();

        // Fire-and-forget while the service is down: the broker keeps it in the persistent session.
        await client.PublishAsync(Topic.Command("t1", ServiceNames.Potentiostat, "note"), new PingCommand("while-away"));
        await client.DrainAsync(Timeout);

        await using var again = await StartServerAsync();
        await Eventually.TrueAsync(() => received.Contains("while-away"), "the command queued while away");
    }

    [Fact]
    public async Task The_bus_reconnects_and_resubscribes_after_the_broker_restarts()
    {
        await using var broker = await MosquittoServer.StartAsync();
        await using var server = await BusFactory.ConnectAsync(broker, ServiceNames.Stage);
        await server.ListenForCommandsAsync();
        await using var client = await BusFactory.ConnectAsync(broker, ServiceNames.Cli);
        await client.CallAsync<PingCommand, PingResult>(ServiceNames.Stage, "ping", new PingCommand(), Timeout);

        broker.Kill();
        await Task.Delay(500);
        await broker.StartAgainAsync();

        await server.WaitConnectedAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        await client.WaitConnectedAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        var result = await client.CallAsync<PingCommand, PingResult>(ServiceNames.Stage, "ping", new PingCommand("after"), TimeSpan.FromSeconds(30));
        Assert.Equal("after", result.Text);
    }

    [Fact]
    public async Task A_thousand_malformed_commands_each_get_an_error_and_the_service_keeps_answering()
    {
        await using var broker = await MosquittoServer.StartAsync();
        await using var server = await BusFactory.ConnectAsync(broker, ServiceNames.Stage);
        var applied = 0;
        await server.MapCommandAsync<MoveProbe>("move", (cmd, _) =>
        {
            Interlocked.Increment(ref applied);
            return Task.CompletedTask;
        }, ProbeJson.Default.MoveProbe);
        await using var client = await BusFactory.ConnectAsync(broker, ServiceNames.Cli);

        var payloads = MalformedPayloads().Take(1000).ToList();
        var replies = await Task.WhenAll(payloads.Select(async p =>
            await client.RequestRawAsync(Topic.Command("t1", ServiceNames.Stage, "move"), p, Timeout)));

        Assert.All(replies, r =>
        {
            Assert.False(r.Ok);
            Assert.Contains(r.Error!.Code, new[] { ErrorCodes.BadPayload, ErrorCodes.InvalidArgument });
            Assert.Contains("seccm/t1/stage/cmd/move", r.Error.Message, StringComparison.Ordinal);
        });
        Assert.Equal(0, applied);
        var pong = await client.CallAsync<PingCommand, PingResult>(ServiceNames.Stage, "ping", new PingCommand("alive"), Timeout);
        Assert.Equal("alive", pong.Text);
    }

    private static IEnumerable<byte[]> MalformedPayloads()
    {
        var fixedCases = new[]
        {
            "", "null", "[]", "42", "\"text\"", "{", "{\"xUm\":", "{\"xUm\":\"ten\",\"yUm\":1}", "{\"yUm\":1}",
            "{\"xUm\":1e999,\"yUm\":1}", "{\"xUm\":-5,\"yUm\":1}", "{\"xUm\":null,\"yUm\":1}",
            "{\"xUm\":1,\"yUm\":" + new string('9', 100_000) + "}", "{\"label\":\"" + new string('x', 300_000) + "\"}",
            new string('[', 10_000), "{\"xUm\":NaN,\"yUm\":1}",
        };
        foreach (var c in fixedCases)
        {
            yield return Encoding.UTF8.GetBytes(c);
        }
        var random = Gen.Byte.Array[0, 400];
        var jsonish = Gen.OneOf(
            Gen.Const("{\"xUm\":"), Gen.Const("\"yUm\""), Gen.Const("}"), Gen.Const("{"), Gen.Const(","), Gen.Const("null"),
            Gen.Const("true"), Gen.Double.Select(d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture)), Gen.String)
            .Array[0, 12].Select(parts => Encoding.UTF8.GetBytes(string.Concat(parts)));
        var seed = 1;
        while (true)
        {
            var pcg = new PCG((uint)seed++);
            yield return seed % 2 == 0 ? random.Generate(pcg, null, out _) : jsonish.Generate(pcg, null, out _);
        }
    }
}

/// <summary>A command shaped like the stage's move, for the malformed-payload test.</summary>
public sealed record MoveProbe(double XUm, double YUm) : Payload, IValidatable
{
    public IEnumerable<string> Validate()
    {
        if (XUm < 0 || !double.IsFinite(XUm))
        {
            yield return $"xUm must be a finite number >= 0, not {XUm}";
        }
        if (!double.IsFinite(YUm))
        {
            yield return $"yUm must be finite, not {YUm}";
        }
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web,
    RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(MoveProbe))]
internal sealed partial class ProbeJson : System.Text.Json.Serialization.JsonSerializerContext;
