using Seccm.Host.Bench.Tests.Infrastructure;
using Seccm.TestSupport;

namespace Seccm.Host.Bench.Tests;

/// <summary>The service benches run end to end on the embedded broker and report positive numbers; never a time limit.</summary>
public class ServiceBenchTests
{
    [Fact]
    public async Task Bench_move_reports_positive_reply_and_telemetry_latencies_and_ratios()
    {
        var values = await RunAsync("move", "--count", "4");
        foreach (var metric in new[] { "raw_median_ms", "reply_median_ms", "reply_p99_ms", "telemetry_median_ms", "ratio_median_reply_over_raw",
                     "ratio_median_telemetry_over_raw" })
        {
            BenchCli.AssertPositive(values, metric);
        }
        Assert.Equal(4, values["moves"]);
    }

    [Fact]
    public async Task Bench_chunks_reports_positive_throughputs_and_ratio()
    {
        var values = await RunAsync("chunks", "--messages", "10");
        foreach (var metric in new[] { "raw_samples_per_s", "bus_samples_per_s", "ratio_bus_over_raw", "bytes_per_message" })
        {
            BenchCli.AssertPositive(values, metric);
        }
        Assert.Equal(1000, values["samples_per_message"]);
    }

    [Fact]
    public async Task Bench_alarm_reports_positive_times_from_the_o2_step_to_alarm_and_unsafe_status()
    {
        var values = await RunAsync("alarm", "--count", "1", "--hold-s", "0", "--poll-ms", "200");
        foreach (var metric in new[] { "alarm_event_median_ms", "unsafe_status_median_ms", "ratio_alarm_over_period" })
        {
            BenchCli.AssertPositive(values, metric);
        }
        Assert.Equal(200, values["sampling_period_ms"]);
    }

    private static async Task<Dictionary<string, double>> RunAsync(string bench, params string[] args)
    {
        using var dir = new TempDir();
        var json = dir.File($"{bench}.json");
        var result = await BenchCli.RunAsync([bench, .. args, "--out", json]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"seccm-bench {bench}", result.Output);
        Assert.Contains("metric", result.Output);
        return BenchCli.ReadBenchResults(json);
    }
}
