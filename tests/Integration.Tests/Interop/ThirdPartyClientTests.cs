using System.Globalization;
using Seccm.Contracts.Topics;
using Seccm.Integration.Tests.Infrastructure;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Integration.Tests.Interop;

/// <summary>
/// MQTT clients no one here wrote (mosquitto-clients 2.0, Eclipse Paho from Debian) against a real <c>seccm all</c>,
/// once on its embedded broker and once on mosquitto: the README's "Watch it from another terminal" lines, run as
/// written, and a Paho script doing what a lab's own script would.
/// </summary>
public sealed class ThirdPartyClientTests(ITestOutputHelper output) : IDisposable
{
    private const string EmbeddedBroker = "embedded";
    private const string MosquittoBroker = "mosquitto";

    private readonly string _dir = Directory.CreateTempSubdirectory("seccm-interop-").FullName;
    private readonly List<OwnedProcess> _processes = [];

    [Theory]
    [InlineData(EmbeddedBroker)]
    [InlineData(MosquittoBroker)]
    public async Task The_terminal_commands_of_the_readme_and_paho_work_on_the_broker(string brokerKind)
    {
        // A hang guard for the whole conversation on a loaded machine, not a speed requirement.
        using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        var ct = hang.Token;
        var readme = TerminalCommands.FromReadme();
        var instrument = $"tp{brokerKind[..3]}{Environment.ProcessId}";
        await using var mosquitto = brokerKind == MosquittoBroker ? await MosquittoServer.StartAsync() : null;
        var port = mosquitto?.Port ?? FreePort.Next();
        string[] brokerFlags = mosquitto is null
            ? ["--mqtt-port", Invariant(port)]
            : ["--mqtt-host", mosquitto.Host, "--mqtt-port", Invariant(port)];
        var all = Seccm(["all", "--instrument", instrument, .. brokerFlags]);
        await FreePort.WaitListeningAsync(port, TimeSpan.FromMinutes(2), $"the broker of {all.Display}");

        // Everything of the instrument, as the README subscribes (MQTT 3.1.1, no client id).
        var watch = Client(TerminalCommands.ForMosquittoClient(readme.Line("mosquitto_sub"), port, instrument));
        foreach (var service in ServiceNames.All)
        {
            await watch.WaitForLineAsync(l => l.StartsWith($"seccm/{instrument}/{service}/status {{", StringComparison.Ordinal)
                && l.Contains("\"state\":\"online\"", StringComparison.Ordinal), $"{service}'s online status", ct);
        }
        await watch.WaitForLineAsync(l => l.StartsWith($"seccm/{instrument}/", StringComparison.Ordinal)
            && l.Contains("/telemetry/", StringComparison.Ordinal), "telemetry", ct);

        // A subscriber that comes later gets the five statuses retained (%r is the retain flag); MQTT 5 without -i
        // this time: the broker assigns the id (-d shows it).
        var later = Client("mosquitto_sub", "-V", "5", "-d", "-h", "127.0.0.1", "-p", Invariant(port),
            "-t", $"seccm/{instrument}/+/status", "-F", "%r %t %p");
        foreach (var service in ServiceNames.All)
        {
            await later.WaitForLineAsync(l => l.StartsWith($"1 seccm/{instrument}/{service}/status ", StringComparison.Ordinal)
                && l.Contains("\"state\":\"online\"", StringComparison.Ordinal), $"the retained online status of {service}", ct);
        }
        var connack = await later.WaitForLineAsync(l => l.Contains("received CONNACK (0)", StringComparison.Ordinal), "the CONNACK", ct);
        Assert.StartsWith("Client auto-", connack, StringComparison.Ordinal);

        var ping = await Client(TerminalCommands.ForMosquittoClient(readme.Line("mosquitto_rr", "/cmd/ping"), port, instrument))
            .WaitForExitAsync(ct);
        Assert.Contains("\"ok\":true", ping, StringComparison.Ordinal);
        Assert.Contains("\"service\":\"stage\"", ping, StringComparison.Ordinal);

        var start = Seccm(TerminalCommands.ForSeccm(readme.Line("seccm", "start"), port, instrument));
        await start.WaitForExitAsync(ct);
        Assert.True(start.Process.ExitCode == 0, $"{start.Display} failed: {start.Output}");
        var firstResult = await watch.WaitForLineAsync(l => l.StartsWith($"seccm/{instrument}/diffusion/result/", StringComparison.Ordinal)
            && l.Contains("/pixel/", StringComparison.Ordinal), "a pixel result", ct);
        output.WriteLine($"first result: {firstResult[..Math.Min(200, firstResult.Length)]}");

        var beforePause = watch.LineCount;
        var pause = await Client(TerminalCommands.ForMosquittoClient(readme.Line("mosquitto_rr", "/cmd/pause"), port, instrument))
            .WaitForExitAsync(ct);
        Assert.Contains("\"ok\":true", pause, StringComparison.Ordinal);
        await watch.WaitForLineAsync(l => l.StartsWith($"seccm/{instrument}/scan/", StringComparison.Ordinal)
            && l.Contains("\"paused\"", StringComparison.OrdinalIgnoreCase), "the scan paused", ct, from: beforePause);

        // Paho, MQTT 5: assigned id, a retained result of the paused scan, request/reply with correlation data.
        var paho5 = Paho("v5", port, instrument);
        Assert.True(await ExitCodeAsync(paho5, ct) == 0, $"{paho5.Display}:{Environment.NewLine}{paho5.Output}");
        Assert.Contains("connected assigned-client-id=auto-", paho5.Output, StringComparison.Ordinal);
        Assert.Contains("reply correlation-matches=True ok=True", paho5.Output, StringComparison.Ordinal);
        Assert.Contains($"retained-result seccm/{instrument}/diffusion/result/", paho5.Output, StringComparison.Ordinal);

        // Paho, MQTT 3.1.1: no response topic; a malformed command's error is published where it can see it.
        var paho311 = Paho("v311", port, instrument);
        Assert.True(await ExitCodeAsync(paho311, ct) == 0, $"{paho311.Display}:{Environment.NewLine}{paho311.Output}");
        Assert.Contains("error-reply code=bad_payload", paho311.Output, StringComparison.Ordinal);
        await watch.WaitForLineAsync(l => l.StartsWith($"seccm/{instrument}/scan/event/reply ", StringComparison.Ordinal)
            && l.Contains("\"ok\":false", StringComparison.Ordinal), "the error reply in the subscription", ct);

        // mosquitto_pub (MQTT 3.1.1): the command is carried out and its reply shows in the subscription.
        var beforeResume = watch.LineCount;
        var resume = Client(TerminalCommands.ForMosquittoClient(readme.Line("mosquitto_pub", "/cmd/resume"), port, instrument));
        Assert.True(await ExitCodeAsync(resume, ct) == 0, $"{resume.Display}: {resume.Output}");
        await watch.WaitForLineAsync(l => l.StartsWith($"seccm/{instrument}/scan/event/reply ", StringComparison.Ordinal)
            && l.Contains("\"ok\":true", StringComparison.Ordinal) && l.Contains("resuming", StringComparison.Ordinal),
            "the reply to the resume in the subscription", ct, from: beforeResume);
        await watch.WaitForLineAsync(l => l.StartsWith($"seccm/{instrument}/scan/", StringComparison.Ordinal)
            && l.Contains("\"running\"", StringComparison.OrdinalIgnoreCase), "the scan running again", ct, from: beforeResume);
        output.WriteLine($"{brokerKind}: ping reply {ping}");
        output.WriteLine($"{brokerKind}: pause reply {pause}");
        output.WriteLine($"{brokerKind}: paho MQTT 5{Environment.NewLine}{paho5.Output}");
        output.WriteLine($"{brokerKind}: paho MQTT 3.1.1{Environment.NewLine}{paho311.Output}");
        output.WriteLine($"{brokerKind}: mosquitto_sub saw{Environment.NewLine}{string.Join(Environment.NewLine,
            watch.Output.Split(Environment.NewLine).Where(l => l.Contains("/event/reply ", StringComparison.Ordinal)))}");
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private OwnedProcess Client(IReadOnlyList<string> line) => Client(line.ToArray());

    private OwnedProcess Client(params string[] line) => Track(ExternalTool.Start(ExternalTool.Require(line[0]), line.Skip(1)));

    private OwnedProcess Seccm(IReadOnlyList<string> args) => Track(SeccmProcess.Start(args, workingDirectory: _dir));

    private OwnedProcess Paho(string mode, int port, string instrument) => Track(ExternalTool.Start(ExternalTool.Require("python3"),
        ["-u", Path.Combine(AppContext.BaseDirectory, "Interop", "paho_client.py"), mode, "127.0.0.1", Invariant(port), instrument]));

    private OwnedProcess Track(OwnedProcess process)
    {
        _processes.Add(process);
        output.WriteLine($"$ {process.Display}");
        return process;
    }

    private static async Task<int> ExitCodeAsync(OwnedProcess process, CancellationToken ct)
    {
        await process.WaitForExitAsync(ct);
        return process.Process.ExitCode;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
