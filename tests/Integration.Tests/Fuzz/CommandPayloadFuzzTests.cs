using System.Globalization;
using System.Text;
using CsCheck;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Topics;
using Seccm.Integration.Tests.Faults;
using Xunit.Abstractions;

namespace Seccm.Integration.Tests.Fuzz;

/// <summary>
/// Random JSON shapes (right field names with wrong types and values, wrong nesting, garbage bytes) sent over a real
/// mosquitto to every command of every service, each running as its own <c>seccm</c> process: every one gets a reply
/// (ok or a named error), and every service still answers ping afterwards.
/// </summary>
public sealed class CommandPayloadFuzzTests(ITestOutputHelper output)
{
    private static readonly (string Service, string Verb, string[] Fields)[] Commands =
    [
        (ServiceNames.Stage, "move", ["xUm", "yUm", "zUm"]),
        (ServiceNames.Stage, "retract", ["dzUm"]),
        (ServiceNames.Stage, "approach", ["speedUmPerS", "maxTravelUm", "stopOnTopic"]),
        (ServiceNames.Potentiostat, "cv", ["scanId", "pixel", "startV", "vertex1V", "vertex2V", "scanRatesVPerS", "stepV", "cycles"]),
        (ServiceNames.Potentiostat, "hold", ["potentialV", "durationS", "intervalS", "contactThresholdA", "pixel"]),
        (ServiceNames.Potentiostat, "cell", ["on"]),
        (ServiceNames.Glovebox, "pump", ["on", "reason"]),
        (ServiceNames.Glovebox, "simulate", ["scenario"]),
        (ServiceNames.Scan, "start", ["recipe", "scanId"]),
        (ServiceNames.Scan, "pause", ["reason"]),
        (ServiceNames.Diffusion, "export", ["scanId"]),
    ];

    private static Gen<T> Pick<T>(params T[] items) => Gen.Int[0, items.Length - 1].Select(i => items[i]);

    // Values chosen to be wrong far more often than right: wrong types, out of range, non-finite spellings, deep nesting.
    private static readonly Gen<string> Value = Gen.OneOf(
        Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "1e400"),
        Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Gen.String.Select(s => System.Text.Json.JsonSerializer.Serialize(s)),
        Pick("null", "true", "false", "[]", "{}", "\"\"", "[1,\"a\",null]", "{\"kind\":\"cv\"}", "-0", "1e308", "\"NaN\"", "\"../../etc\"",
            "\"seccm/x/stage/cmd/move\"", "{\"grid\":{\"nx\":-1}}", "[[[[[[[[[[]]]]]]]]]]"));

    private static Gen<byte[]> Payload(string[] fields) => Gen.OneOf(
        Gen.Select(Pick(fields.Append("schema").Append("unknown").ToArray()), Value).Array[0, 6]
            .Select(pairs => Encoding.UTF8.GetBytes("{" + string.Join(",", pairs.Select(p => $"\"{p.Item1}\":{p.Item2}")) + "}")),
        Value.Select(Encoding.UTF8.GetBytes),
        Gen.Byte.Array[0, 64],
        Pick("", "{", "{\"xUm\":", "\u0000", "{}}", "{\"a\":1,\"a\":2}").Select(Encoding.UTF8.GetBytes));

    [Fact]
    public async Task Every_command_of_every_service_answers_random_payloads_and_the_services_keep_answering_ping()
    {
        await using var rig = await ScanRig.CreateAsync(output, "fz" + Environment.ProcessId, withInflux: false);
        rig.StartAll();
        await rig.WaitAllOnlineAsync();
        var replies = new Dictionary<string, (int Ok, int Errors)>();
        foreach (var (service, verb, fields) in Commands)
        {
            var ok = 0;
            var errors = 0;
            await Payload(fields).SampleAsync(async payload =>
            {
                var topic = Topic.Command(rig.Instrument, service, verb);
                CommandReply reply;
                try
                {
                    reply = await rig.Watcher.RequestRawAsync(topic, payload, TimeSpan.FromSeconds(30));
                }
                catch (TimeoutException ex)
                {
                    throw new InvalidOperationException($"{service} {verb} gave no reply to '{Encoding.UTF8.GetString(payload)}': {ex.Message}; {rig.Tail(service)}", ex);
                }
                if (reply.Ok)
                {
                    ok++;
                }
                else
                {
                    errors++;
                    Assert.NotNull(reply.Error);
                    Assert.False(string.IsNullOrWhiteSpace(reply.Error.Message), $"{service} {verb}: an error without a message");
                }
            }, iter: 60, threads: 1);
            replies[$"{service} {verb}"] = (ok, errors);
            output.WriteLine($"{service} {verb}: {ok} ok, {errors} refused with a message");
        }

        foreach (var service in ServiceNames.All)
        {
            Assert.False(rig.Process(service).HasExited, $"{service} died: {rig.Tail(service)}");
            var pong = await rig.Watcher.CallAsync<PingCommand, PingResult>(service, "ping", new PingCommand("after fuzz"), TimeSpan.FromSeconds(30));
            Assert.Equal("after fuzz", pong.Text);
        }
        Assert.All(replies, r => Assert.True(r.Value.Errors > 0, $"{r.Key}: nothing was refused, so nothing was fuzzed"));
    }
}
