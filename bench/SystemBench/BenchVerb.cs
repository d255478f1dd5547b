using System.CommandLine;
using System.Globalization;
using Seccm.Host.Bench;

namespace Seccm.Host.Verbs;

/// <summary>
/// <c>seccm-bench analyze|simulate|mqtt|coldstart|move|chunks|alarm [--out FILE.json]</c>: speed and memory measured against a baseline
/// in the same run, printed as a table (numbers and ratios) and optionally written as JSON. Never a pass/fail limit.
/// </summary>
internal static class BenchVerb
{
    public static RootCommand Create()
    {
        var command = new RootCommand("seccm-bench: system benchmarks of seccm, numbers and ratios against a baseline measured in the same run");
        command.Subcommands.Add(Analyze());
        command.Subcommands.Add(Simulate());
        command.Subcommands.Add(Mqtt());
        command.Subcommands.Add(ColdStart());
        command.Subcommands.Add(Move());
        command.Subcommands.Add(Chunks());
        command.Subcommands.Add(Alarm());
        return command;
    }

    private static Option<FileInfo?> OutOption() => new("--out") { Description = "Also write the results as JSON to this file" };

    private static Command Analyze()
    {
        var output = OutOption();
        var size = new Option<int>("--size") { Description = "Pixels per side of the generated map (also runs half that size)", DefaultValueFactory = _ => 64 };
        var rates = new Option<string>("--rates") { Description = "Scan rates in V/s of the generated map", DefaultValueFactory = _ => "1.25,2.5,5,10,20" };
        var input = new Option<FileInfo?>("--input") { Description = "Analyse this long CSV instead of generating one" };
        var workDir = new Option<DirectoryInfo?>("--work-dir") { Description = "Keep the generated files here (default: a temp folder, deleted)" };
        var noBaseline = new Option<bool>("--no-baseline") { Description = "Skip the read-everything single-thread baseline" };
        var command = new Command("analyze", "seccm analyze's streaming all-core core vs a read-everything single-thread baseline; time and peak memory at two sizes");
        foreach (var o in new Option[] { output, size, rates, input, workDir, noBaseline }) command.Options.Add(o);
        command.SetAction(parse => Finish("analyze", parse.GetValue(output), report =>
            AnalyzeBench.Run(new AnalyzeBench.Options(parse.GetValue(size), parse.GetValue(rates)!, parse.GetValue(input), parse.GetValue(workDir),
                parse.GetValue(noBaseline)), report, Console.Out)));
        return command;
    }

    private static Command Simulate()
    {
        var output = OutOption();
        var count = new Option<int>("--count") { Description = "CVs per measurement", DefaultValueFactory = _ => 200 };
        var rates = new Option<string>("--rates") { Description = "Scan rates in V/s, simulated in turn", DefaultValueFactory = _ => "1.25,2.5,5,10,20" };
        var command = new Command("simulate", "Simulated CVs per second, one thread vs all cores");
        foreach (var o in new Option[] { output, count, rates }) command.Options.Add(o);
        command.SetAction(parse => Finish("simulate", parse.GetValue(output), report => SimulateBench.Run(parse.GetValue(count), parse.GetValue(rates)!, report)));
        return command;
    }

    private static Command Mqtt()
    {
        var output = OutOption();
        var (host, port) = BrokerOptions();
        var count = new Option<int>("--count") { Description = "Round trips of each kind", DefaultValueFactory = _ => 2000 };
        var command = new Command("mqtt", "Request/reply latency through MqttBus vs a raw MQTT round trip (embedded broker unless --mqtt-host)");
        foreach (var o in new Option[] { output, host, port, count }) command.Options.Add(o);
        command.SetAction(async (parse, ct) => await FinishAsync("mqtt", parse.GetValue(output), report =>
            MqttBench.RunAsync(parse.GetValue(host), parse.GetValue(port), parse.GetValue(count), report, ct)).ConfigureAwait(false));
        return command;
    }

    private static Command ColdStart()
    {
        var output = OutOption();
        var (host, port) = BrokerOptions();
        var runs = new Option<int>("--runs") { Description = "Cold starts to time", DefaultValueFactory = _ => 3 };
        var command = new Command("coldstart", "Time from starting `seccm all` (child process) to all five statuses online, vs `seccm --version`");
        foreach (var o in new Option[] { output, host, port, runs }) command.Options.Add(o);
        command.SetAction(async (parse, ct) => await FinishAsync("coldstart", parse.GetValue(output), report =>
            ColdStartBench.RunAsync(parse.GetValue(host), parse.GetValue(port), parse.GetValue(runs), report, ct)).ConfigureAwait(false));
        return command;
    }

    private static Command Move()
    {
        var output = OutOption();
        var (host, port) = BrokerOptions();
        var count = new Option<int>("--count") { Description = "Moves of 1 um (and raw round trips)", DefaultValueFactory = _ => 200 };
        var command = new Command("move", "cmd/move to the real stage service (simulated, real time) -> reply and on-target telemetry, vs a raw MQTT round trip");
        foreach (var o in new Option[] { output, host, port, count }) command.Options.Add(o);
        command.SetAction(async (parse, ct) => await FinishAsync("move", parse.GetValue(output), report =>
            MoveBench.RunAsync(parse.GetValue(host), parse.GetValue(port), parse.GetValue(count), report, ct)).ConfigureAwait(false));
        return command;
    }

    private static Command Chunks()
    {
        var output = OutOption();
        var (host, port) = BrokerOptions();
        var messages = new Option<int>("--messages") { Description = "CurveChunk messages per round", DefaultValueFactory = _ => 1000 };
        var command = new Command("chunks", "Curve-chunk throughput through MqttBus QoS 1 (the potentiostat's path) vs raw MQTTnet QoS 1 of the same bytes");
        foreach (var o in new Option[] { output, host, port, messages }) command.Options.Add(o);
        command.SetAction(async (parse, ct) => await FinishAsync("chunks", parse.GetValue(output), report =>
            ChunksBench.RunAsync(parse.GetValue(host), parse.GetValue(port), parse.GetValue(messages), report, ct)).ConfigureAwait(false));
        return command;
    }

    private static Command Alarm()
    {
        var output = OutOption();
        var (host, port) = BrokerOptions();
        var count = new Option<int>("--count") { Description = "O2 excursions", DefaultValueFactory = _ => 10 };
        var hold = new Option<double?>("--hold-s") { Description = "Glovebox:AlarmHoldSeconds for the run (default: the service's default)" };
        var poll = new Option<int>("--poll-ms") { Description = "Glovebox:PollIntervalMs for the run", DefaultValueFactory = _ => 1000 };
        var command = new Command("alarm", "O2 step in the simulated glovebox -> alarm event and safeToScan false, vs the sampling period");
        foreach (var o in new Option[] { output, host, port, count, hold, poll }) command.Options.Add(o);
        command.SetAction(async (parse, ct) => await FinishAsync("alarm", parse.GetValue(output), report =>
            AlarmBench.RunAsync(parse.GetValue(host), parse.GetValue(port), parse.GetValue(count), parse.GetValue(hold), parse.GetValue(poll), report, ct))
            .ConfigureAwait(false));
        return command;
    }

    private static (Option<string?> Host, Option<int?> Port) BrokerOptions()
    {
        var host = new Option<string?>("--mqtt-host") { Description = "Broker to measure (default: an embedded MQTTnet broker on a free loopback port)" };
        var port = new Option<int?>("--mqtt-port") { Description = "Broker port (default 1883 with --mqtt-host)" };
        port.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is int p && (p < 1 || p > 65535)) r.AddError($"--mqtt-port must be between 1 and 65535, not {p}.");
        });
        return (host, port);
    }

    private static int Finish(string name, FileInfo? output, Func<BenchReport, int> run) =>
        FinishAsync(name, output, report => Task.FromResult(run(report))).GetAwaiter().GetResult();

    private static async Task<int> FinishAsync(string name, FileInfo? output, Func<BenchReport, Task<int>> run)
    {
        var report = new BenchReport(name);
        int code;
        try
        {
            code = await run(report).ConfigureAwait(false);
        }
        catch (BenchException ex)
        {
            await Console.Error.WriteLineAsync($"seccm-bench {name}: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        if (code != 0) return code;
        report.Print(Console.Out);
        if (output is not null)
        {
            try
            {
                report.WriteJson(output.FullName);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Fail(name, $"--out {output.FullName}: cannot write: {ex.Message}");
            }
        }
        return 0;
    }

    internal static int Fail(string name, string message)
    {
        Console.Error.WriteLine($"seccm-bench {name}: {message}");
        return 2;
    }

    internal static bool TryParseRates(string text, out List<double> rates, out string error)
    {
        rates = [];
        error = "";
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v > 0) || !double.IsFinite(v))
            {
                error = $"--rates: '{part}' is not a positive scan rate in V/s (expected e.g. 1.25,2.5,5)";
                return false;
            }
            rates.Add(v);
        }
        if (rates.Count == 0)
        {
            error = "--rates: no scan rate given";
            return false;
        }
        return true;
    }
}
