using System.Globalization;
using Seccm.Host.Bench.Tests.Infrastructure;
using Seccm.TestSupport;

namespace Seccm.Host.Bench.Tests;

/// <summary>The benches run and report numbers; what the numbers are is for the reader of the table, never a test limit.</summary>
public class BenchVerbTests
{
    [Fact]
    public async Task Bench_mqtt_against_mosquitto_reports_positive_latencies_and_ratios()
    {
        // Without TCP_NODELAY mosquitto's small QoS 1 packets wait on delayed ACKs (about 40 ms per round trip).
        await using var broker = await MosquittoServer.StartAsync("set_tcp_nodelay true");
        using var dir = new TempDir();
        var json = dir.File("mqtt.json");

        var result = await BenchCli.RunAsync("mqtt", "--mqtt-host", broker.Host, "--mqtt-port",
            broker.Port.ToString(CultureInfo.InvariantCulture), "--count", "100", "--out", json);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("bus_median_ms", result.Output);
        var values = BenchCli.ReadBenchResults(json);
        foreach (var metric in new[] { "raw_median_ms", "raw_p99_ms", "bus_median_ms", "bus_p99_ms", "ratio_median_bus_over_raw", "ratio_p99_bus_over_raw" })
        {
            BenchCli.AssertPositive(values, metric);
        }
        Assert.Equal(100, values["round_trips_each"]);
    }

    [Fact]
    public async Task Bench_analyze_size_4_reports_positive_times_memory_and_ratios_and_both_sides_agree()
    {
        using var dir = new TempDir();
        var json = dir.File("analyze.json");

        var result = await BenchCli.RunAsync("analyze", "--size", "4", "--out", json);

        Assert.True(result.ExitCode == 0, result.ToString());
        var values = BenchCli.ReadBenchResults(json);
        foreach (var label in new[] { "2x2", "4x4" })
        {
            foreach (var side in new[] { "core", "baseline" })
            {
                BenchCli.AssertPositive(values, $"{side}_{label}_wall_s");
                BenchCli.AssertPositive(values, $"{side}_{label}_samples_per_s");
                BenchCli.AssertPositive(values, $"{side}_{label}_peak_working_set_mb");
            }
            BenchCli.AssertPositive(values, $"ratio_{label}_speedup");
            BenchCli.AssertPositive(values, $"ratio_{label}_peak_working_set");
            // Same physics on both sides: the same map.
            Assert.Equal(values[$"baseline_{label}_median_d_cm2_s"], values[$"core_{label}_median_d_cm2_s"], 1e-20);
        }
        BenchCli.AssertPositive(values, "ratio_core_peak_working_set_large_over_small");
        Assert.Equal(4.0, values["ratio_file_size_large_over_small"], 0.05);
    }

    [Fact]
    public async Task Bench_simulate_reports_positive_rates()
    {
        using var dir = new TempDir();
        var json = dir.File("simulate.json");

        var result = await BenchCli.RunAsync("simulate", "--count", "6", "--out", json);

        Assert.True(result.ExitCode == 0, result.ToString());
        var values = BenchCli.ReadBenchResults(json);
        BenchCli.AssertPositive(values, "single_thread_cvs_per_s");
        BenchCli.AssertPositive(values, "all_cores_cvs_per_s");
        BenchCli.AssertPositive(values, "ratio_all_cores_over_single");
        Assert.Equal(2201, values["samples_per_cv"]);
    }

    [Fact]
    public async Task Bench_coldstart_against_mosquitto_reports_the_time_to_five_online_statuses()
    {
        // Without TCP_NODELAY mosquitto's small QoS 1 packets wait on delayed ACKs (about 40 ms per round trip).
        await using var broker = await MosquittoServer.StartAsync("set_tcp_nodelay true");
        using var dir = new TempDir();
        var json = dir.File("coldstart.json");

        var result = await BenchCli.RunAsync("coldstart", "--mqtt-host", broker.Host, "--mqtt-port",
            broker.Port.ToString(CultureInfo.InvariantCulture), "--runs", "1", "--out", json);

        Assert.True(result.ExitCode == 0, result.ToString());
        var values = BenchCli.ReadBenchResults(json);
        BenchCli.AssertPositive(values, "all_online_median_s");
        BenchCli.AssertPositive(values, "baseline_version_median_s");
        BenchCli.AssertPositive(values, "ratio_all_online_over_baseline");
    }

    [Fact]
    public async Task Bench_with_a_bad_option_exits_2_naming_it()
    {
        var result = await BenchCli.RunAsync("analyze", "--size", "1");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--size 1", result.Error);
    }
}
