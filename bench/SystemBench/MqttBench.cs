using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Topics;
using Seccm.Host.Verbs;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Messaging.Hosting;

namespace Seccm.Host.Bench;

/// <summary>
/// <c>seccm-bench mqtt</c>: round-trip latency of a <c>cmd/ping</c> request/reply through <see cref="MqttBus"/> against
/// the raw MQTT round trip (bare MQTTnet clients: publish, echo, receive; QoS 1 both ways like the bus) on the same
/// broker in the same run. Blocks of the two alternate so drift of the machine hits both alike.
/// </summary>
internal static class MqttBench
{
    private const string BenchService = "bench";
    private const int Block = 50;

    public static async Task<int> RunAsync(string? host, int? port, int count, BenchReport report, CancellationToken cancellationToken)
    {
        if (count is < 1 or > 1_000_000) return BenchVerb.Fail("mqtt", $"--count {count}: must be between 1 and 1000000 round trips");
        var time = TimeProvider.System;
        var timeout = TimeSpan.FromSeconds(10);
        string instrument = $"bench-{Environment.ProcessId}";

        await using var broker = await BenchBroker.OpenAsync(host, port, cancellationToken).ConfigureAwait(false);
        await using var rawTrip = await RawRoundTrip.OpenAsync(broker, instrument, cancellationToken).ConfigureAwait(false);

        var seccm = new SeccmOptions { Instrument = instrument, WorkerId = "b" };
        var mqtt = new MqttOptions { Host = broker.Host, Port = broker.Port, SessionExpirySeconds = 0 };
        await using var server = new MqttBus(BenchService, seccm, mqtt, NullLogger.Instance, time);
        await using var client = new MqttBus(ServiceNames.Cli, seccm, mqtt, NullLogger.Instance, time);
        try
        {
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            await client.StartAsync(cancellationToken).ConfigureAwait(false);
            await server.WaitConnectedAsync(timeout, cancellationToken).ConfigureAwait(false);
            await client.WaitConnectedAsync(timeout, cancellationToken).ConfigureAwait(false);
            await server.ListenForCommandsAsync().ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new BenchException(ex.Message);
        }

        Task<double> RawRoundTripAsync(int i) => rawTrip.MeasureAsync(i, cancellationToken);

        async Task<double> BusRoundTripAsync(int i)
        {
            var started = Stopwatch.GetTimestamp();
            CommandReply reply;
            try
            {
                reply = await client.RequestAsync(BenchService, "ping", new PingCommand(i.ToString(CultureInfo.InvariantCulture)), timeout, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (CommandTimeoutException ex)
            {
                throw new BenchException(ex.Message);
            }
            double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!reply.Ok) throw new BenchException($"ping refused: {reply.Error?.Message}");
            return ms;
        }

        // Warm-up: JIT, subscriptions, TCP buffers.
        for (int i = 0; i < Math.Min(Block, count); i++)
        {
            await RawRoundTripAsync(i).ConfigureAwait(false);
            await BusRoundTripAsync(i).ConfigureAwait(false);
        }

        var raw = new List<double>(count);
        var bus = new List<double>(count);
        var wall = Stopwatch.StartNew();
        while (raw.Count < count)
        {
            int n = Math.Min(Block, count - raw.Count);
            for (int i = 0; i < n; i++) raw.Add(await RawRoundTripAsync(raw.Count).ConfigureAwait(false));
            for (int i = 0; i < n; i++) bus.Add(await BusRoundTripAsync(bus.Count).ConfigureAwait(false));
        }
        wall.Stop();

        report.AddInfo("broker", broker.Kind);
        report.Add("round_trips_each", count, "", "QoS 1 both ways");
        report.Add("raw_median_ms", LatencyStats.Median(raw), "ms", "bare MQTTnet: publish -> echo -> receive");
        report.Add("raw_p99_ms", LatencyStats.Percentile(raw, 99), "ms");
        report.Add("raw_mean_ms", raw.Average(), "ms");
        report.Add("bus_median_ms", LatencyStats.Median(bus), "ms", "MqttBus RequestAsync cmd/ping -> reply");
        report.Add("bus_p99_ms", LatencyStats.Percentile(bus, 99), "ms");
        report.Add("bus_mean_ms", bus.Average(), "ms");
        report.Add("ratio_median_bus_over_raw", LatencyStats.Median(bus) / LatencyStats.Median(raw), "x");
        report.Add("ratio_p99_bus_over_raw", LatencyStats.Percentile(bus, 99) / LatencyStats.Percentile(raw, 99), "x");
        report.Add("bench_wall_s", wall.Elapsed.TotalSeconds, "s");

        // Leave nothing retained behind on a shared broker.
        await server.DisposeAsync().ConfigureAwait(false);
        await client.DisposeAsync().ConfigureAwait(false);
        await broker.ClearStatusesAsync(instrument, [BenchService, ServiceNames.Cli], cancellationToken).ConfigureAwait(false);
        return 0;
    }
}
