using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet.Protocol;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Stage;
using Seccm.Contracts.Topics;
using Seccm.Host.Verbs;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Messaging.Hosting;
using Seccm.Stage;

namespace Seccm.Host.Bench;

/// <summary>
/// <c>seccm-bench move</c>: a scan-side <c>cmd/move</c> of 1 um in X to the real stage service (simulated driver, real
/// time) over the broker, timed to the reply and to the first position telemetry on the target; baseline: the raw MQTT
/// request/reply round trip of <c>bench mqtt</c> in the same run, alternating in blocks.
/// </summary>
internal static class MoveBench
{
    private const int Block = 20;
    private const double StepUm = 1;
    // The simulated reading has 1 nm rms noise; a 1 um step is unmistakable at 50 nm.
    private const double OnTargetToleranceUm = 0.05;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(string? host, int? port, int count, BenchReport report, CancellationToken cancellationToken)
    {
        if (count is < 1 or > 100_000) return BenchVerb.Fail("move", $"--count {count}: must be between 1 and 100000 moves");
        var time = TimeProvider.System;
        string instrument = $"bench-move-{Environment.ProcessId}";
        await using var broker = await BenchBroker.OpenAsync(host, port, cancellationToken).ConfigureAwait(false);
        await using var raw = await RawRoundTrip.OpenAsync(broker, instrument, cancellationToken).ConfigureAwait(false);
        var options = new StageOptions();
        await using var stage = await BenchHost.StartAsync(broker, instrument, ServiceNames.Stage, new Dictionary<string, string?>
        {
            ["Stage:Driver"] = "simulated",
            ["Simulation:TimeScale"] = "1",
        }, null, cancellationToken).ConfigureAwait(false);

        var seccm = new SeccmOptions { Instrument = instrument, WorkerId = "b" };
        var mqtt = new MqttOptions { Host = broker.Host, Port = broker.Port, SessionExpirySeconds = 0 };
        await using var scan = new MqttBus(ServiceNames.Scan, seccm, mqtt, NullLogger.Instance, time);
        await scan.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await scan.WaitConnectedAsync(Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new BenchException(ex.Message);
        }

        // The telemetry handler completes the waiting move's second clock when a position on its target arrives.
        (double TargetXUm, TaskCompletionSource<long> Seen)? waiting = null;
        var firstPosition = new TaskCompletionSource<StagePositionTelemetry>(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new object();
        await scan.SubscribeAsync(StageTopics.PositionTopic(instrument), (m, _) =>
        {
            long now = Stopwatch.GetTimestamp();
            var p = SeccmJson.DeserializeValid<StagePositionTelemetry>(m.Payload.Span, m.Topic);
            firstPosition.TrySetResult(p);
            lock (gate)
            {
                if (waiting is { } w && p.OnTarget && Math.Abs(p.XUm - w.TargetXUm) < OnTargetToleranceUm) w.Seen.TrySetResult(now);
            }
            return Task.CompletedTask;
        }, MqttQualityOfServiceLevel.AtMostOnce).ConfigureAwait(false);

        StagePositionTelemetry start;
        try
        {
            start = await firstPosition.Task.WaitAsync(TimeSpan.FromSeconds(30), time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new BenchException($"no stage position telemetry on '{StageTopics.PositionTopic(instrument)}' within 30 s");
        }

        async Task<(double ReplyMs, double TelemetryMs)> MoveAsync(double xUm)
        {
            var seen = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gate) waiting = (xUm, seen);
            var started = Stopwatch.GetTimestamp();
            CommandReply reply;
            try
            {
                reply = await scan.RequestAsync(ServiceNames.Stage, StageTopics.MoveVerb, new MoveCommand(XUm: xUm), Timeout, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (CommandTimeoutException ex)
            {
                throw new BenchException(ex.Message);
            }
            double replyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!reply.Ok) throw new BenchException($"stage refused move to X = {xUm} um: {reply.Error?.Message}");
            long at;
            try
            {
                at = await seen.Task.WaitAsync(Timeout, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new BenchException($"no position telemetry at X = {xUm} um within {Timeout.TotalSeconds} s of the move");
            }
            lock (gate) waiting = null;
            return (replyMs, Stopwatch.GetElapsedTime(started, at).TotalMilliseconds);
        }

        // Back and forth by 1 um around where the stage started (mid-travel after home).
        double x0 = Math.Round(start.XUm, 3);
        int moves = 0;
        double NextTarget() => x0 + (moves++ % 2 == 0 ? StepUm : 0);

        for (int i = 0; i < Math.Min(Block, count); i++)
        {
            await raw.MeasureAsync(i, cancellationToken).ConfigureAwait(false);
            await MoveAsync(NextTarget()).ConfigureAwait(false);
        }

        var rawMs = new List<double>(count);
        var replyMs = new List<double>(count);
        var telemetryMs = new List<double>(count);
        var wall = Stopwatch.StartNew();
        while (replyMs.Count < count)
        {
            int n = Math.Min(Block, count - replyMs.Count);
            for (int i = 0; i < n; i++) rawMs.Add(await raw.MeasureAsync(rawMs.Count, cancellationToken).ConfigureAwait(false));
            for (int i = 0; i < n; i++)
            {
                var (r, t) = await MoveAsync(NextTarget()).ConfigureAwait(false);
                replyMs.Add(r);
                telemetryMs.Add(t);
            }
        }
        wall.Stop();

        double travelMs = StepUm / options.MoveVelocityUmPerS * 1000;
        report.AddInfo("broker", broker.Kind);
        report.AddInfo("stage", FormattableString.Invariant(
            $"in-process stage service, simulated driver, TimeScale 1, {options.MoveVelocityUmPerS} um/s, telemetry {options.TelemetryMovingHz} Hz moving"));
        report.Add("moves", count, "", FormattableString.Invariant($"{StepUm} um in X, back and forth"));
        report.Add("travel_time_ms", travelMs, "ms", "step / move velocity: the physics floor");
        report.Add("raw_median_ms", LatencyStats.Median(rawMs), "ms", "bare MQTTnet request/reply round trip (baseline)");
        report.Add("raw_p99_ms", LatencyStats.Percentile(rawMs, 99), "ms");
        report.Add("reply_median_ms", LatencyStats.Median(replyMs), "ms", "cmd/move request -> reply");
        report.Add("reply_p99_ms", LatencyStats.Percentile(replyMs, 99), "ms");
        report.Add("telemetry_median_ms", LatencyStats.Median(telemetryMs), "ms", "cmd/move request -> position telemetry on target");
        report.Add("telemetry_p99_ms", LatencyStats.Percentile(telemetryMs, 99), "ms");
        report.Add("ratio_median_reply_over_raw", LatencyStats.Median(replyMs) / LatencyStats.Median(rawMs), "x");
        report.Add("ratio_p99_reply_over_raw", LatencyStats.Percentile(replyMs, 99) / LatencyStats.Percentile(rawMs, 99), "x");
        report.Add("ratio_median_telemetry_over_raw", LatencyStats.Median(telemetryMs) / LatencyStats.Median(rawMs), "x");
        report.Add("bench_wall_s", wall.Elapsed.TotalSeconds, "s");

        await scan.DisposeAsync().ConfigureAwait(false);
        await stage.DisposeAsync().ConfigureAwait(false);
        await broker.ClearStatusesAsync(instrument, [ServiceNames.Scan, ServiceNames.Stage], cancellationToken).ConfigureAwait(false);
        return 0;
    }
}
