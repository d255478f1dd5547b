using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using MQTTnet;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Host.Verbs;

namespace Seccm.Host.Bench;

/// <summary>
/// <c>seccm-bench coldstart</c>: from starting <c>dotnet seccm.dll all</c> as a child process to the five retained statuses
/// saying online, against the baseline of the same runtime starting <c>seccm --version</c> and exiting, in the same run.
/// </summary>
internal static class ColdStartBench
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(120);

    public static async Task<int> RunAsync(string? host, int? port, int runs, BenchReport report, CancellationToken cancellationToken)
    {
        if (runs is < 1 or > 100) return BenchVerb.Fail("coldstart", $"--runs {runs}: must be between 1 and 100");
        var dll = Path.Combine(AppContext.BaseDirectory, "seccm.dll");
        if (!File.Exists(dll)) return BenchVerb.Fail("coldstart", $"{dll}: seccm.dll not found beside the running seccm");
        var time = TimeProvider.System;
        await using var broker = await BenchBroker.OpenAsync(host, port, cancellationToken).ConfigureAwait(false);
        using var watcher = await broker.ConnectRawAsync($"bench-coldstart-{Environment.ProcessId}", cancellationToken).ConfigureAwait(false);

        var baseline = new List<double>();
        var firstOnline = new List<double>();
        var allOnline = new List<double>();
        for (int run = 0; run < runs; run++)
        {
            var started = Stopwatch.GetTimestamp();
            using (var version = Start(dll, ["--version"], Environment.CurrentDirectory))
            {
                await version.WaitForExitAsync(cancellationToken).WaitAsync(HangGuard, time, cancellationToken).ConfigureAwait(false);
                baseline.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
            }

            string instrument = string.Create(CultureInfo.InvariantCulture, $"coldstart-{Environment.ProcessId}-{run}");
            var online = new HashSet<string>();
            var allUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            long? first = null;
            Task OnStatus(MqttApplicationMessageReceivedEventArgs e)
            {
                if (!e.ApplicationMessage.Topic.StartsWith($"{Topic.Root}/{instrument}/", StringComparison.Ordinal) || e.ApplicationMessage.Payload.IsEmpty)
                {
                    return Task.CompletedTask;
                }
                var status = SeccmJson.DeserializeValid<ServiceStatus>(e.ApplicationMessage.Payload.ToArray(), e.ApplicationMessage.Topic);
                lock (online)
                {
                    if (status.IsOnline && online.Add(status.Service))
                    {
                        first ??= Stopwatch.GetTimestamp();
                        if (ServiceNames.All.All(online.Contains)) allUp.TrySetResult();
                    }
                }
                return Task.CompletedTask;
            }
            watcher.ApplicationMessageReceivedAsync += OnStatus;
            await BenchBroker.SubscribeAsync(watcher, Topic.StatusFilter(instrument), cancellationToken).ConfigureAwait(false);
            var workDir = Directory.CreateTempSubdirectory("seccm-bench-coldstart-").FullName;
            try
            {
                started = Stopwatch.GetTimestamp();
                using var child = Start(dll, ["all", "--mqtt-host", broker.Host, "--mqtt-port", broker.Port.ToString(CultureInfo.InvariantCulture),
                    "--instrument", instrument], workDir);
                var output = new System.Text.StringBuilder();
                child.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
                child.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
                child.BeginOutputReadLine();
                child.BeginErrorReadLine();
                var exited = child.WaitForExitAsync(cancellationToken);
                var done = await Task.WhenAny(allUp.Task, exited).WaitAsync(HangGuard, time, cancellationToken).ConfigureAwait(false);
                if (done != allUp.Task)
                {
                    lock (output) throw new BenchException($"seccm all exited with code {child.ExitCode} before all services were online: {output}");
                }
                allOnline.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
                firstOnline.Add(Stopwatch.GetElapsedTime(started, first!.Value).TotalSeconds);
                child.Kill(entireProcessTree: true);
                await exited.WaitAsync(TimeSpan.FromSeconds(30), time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new BenchException($"seccm all did not bring all five services online within {HangGuard.TotalSeconds} s");
            }
            finally
            {
                watcher.ApplicationMessageReceivedAsync -= OnStatus;
                await watcher.UnsubscribeAsync(Topic.StatusFilter(instrument), cancellationToken).ConfigureAwait(false);
                foreach (var service in ServiceNames.All)
                {
                    await BenchBroker.ClearRetainedAsync(watcher, Topic.Status(instrument, service), cancellationToken).ConfigureAwait(false);
                }
                TryDelete(workDir);
            }
        }

        report.AddInfo("broker", broker.Kind);
        report.Add("runs", runs, "");
        report.Add("all_online_median_s", LatencyStats.Median(allOnline), "s", "start of `dotnet seccm.dll all` -> 5 statuses online");
        report.Add("all_online_max_s", allOnline.Max(), "s");
        report.Add("first_online_median_s", LatencyStats.Median(firstOnline), "s", "first service online");
        report.Add("baseline_version_median_s", LatencyStats.Median(baseline), "s", "`dotnet seccm.dll --version`, start to exit");
        report.Add("ratio_all_online_over_baseline", LatencyStats.Median(allOnline) / LatencyStats.Median(baseline), "x");
        return 0;
    }

    private static Process Start(string dll, IEnumerable<string> args, string workingDirectory)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return Process.Start(psi) ?? throw new BenchException("could not start dotnet");
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
