using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Glovebox;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Glovebox;
using Seccm.Host.Verbs;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Messaging.Hosting;

namespace Seccm.Host.Bench;

/// <summary>
/// <c>seccm-bench alarm</c>: from an O2 step in the simulated glovebox to the O2 alarm event on the broker and to the
/// glovebox's retained status saying safeToScan false, through the real glovebox service; baseline: the service's own
/// sampling period. The step: <c>cmd/simulate leak</c> starts the leak, then the simulated world's clock (only the
/// world's: polls, hold and the bench run in real time) jumps a minute ahead, so O2 goes from ~1 ppm to ~17 ppm at a
/// known instant. <c>cmd/simulate normal</c> ends it and the bench waits for the all-clear before the next one.
/// </summary>
internal static class AlarmBench
{
    private static readonly TimeSpan LeakJump = TimeSpan.FromMinutes(1);

    public static async Task<int> RunAsync(string? host, int? port, int count, double? holdS, int pollMs, BenchReport report,
        CancellationToken cancellationToken)
    {
        if (count is < 1 or > 1000) return BenchVerb.Fail("alarm", $"--count {count}: must be between 1 and 1000 excursions");
        if (pollMs is < 100 or > 60_000) return BenchVerb.Fail("alarm", $"--poll-ms {pollMs}: must be between 100 and 60000 (Glovebox:PollIntervalMs)");
        var defaults = new GloveboxOptions();
        double hold = holdS ?? defaults.AlarmHoldSeconds;
        if (hold is < 0 or > 3600 || !double.IsFinite(hold)) return BenchVerb.Fail("alarm", $"--hold-s {hold}: must be between 0 and 3600 (Glovebox:AlarmHoldSeconds)");
        var time = TimeProvider.System;
        var timeout = TimeSpan.FromSeconds(30 + 3 * hold + 3 * pollMs / 1000.0);
        string instrument = $"bench-alarm-{Environment.ProcessId}";
        await using var broker = await BenchBroker.OpenAsync(host, port, cancellationToken).ConfigureAwait(false);
        var world = new SteppedClock(time);
        await using var glovebox = await BenchHost.StartAsync(broker, instrument, ServiceNames.Glovebox, new Dictionary<string, string?>
        {
            ["Glovebox:PollIntervalMs"] = pollMs.ToString(CultureInfo.InvariantCulture),
            ["Glovebox:AlarmHoldSeconds"] = hold.ToString(CultureInfo.InvariantCulture),
        },
            // The last registration wins: the simulated world runs on a clock the bench can step; everything else stays real.
            services => services.AddSingleton(new SimulationClock(world, 1)), cancellationToken).ConfigureAwait(false);

        var seccm = new SeccmOptions { Instrument = instrument, WorkerId = "b" };
        var mqtt = new MqttOptions { Host = broker.Host, Port = broker.Port, SessionExpirySeconds = 0 };
        await using var scan = new MqttBus(ServiceNames.Scan, seccm, mqtt, NullLogger.Instance, time);
        await scan.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await scan.WaitConnectedAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new BenchException(ex.Message);
        }

        var gate = new object();
        TaskCompletionSource<long>? alarmSeen = null, unsafeSeen = null, clearSeen = null, safeSeen = null;
        bool? safe = null;
        var online = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await scan.SubscribeAsync(GloveboxTopics.AlarmTopic(instrument), (m, _) =>
        {
            long now = Stopwatch.GetTimestamp();
            var e = SeccmJson.DeserializeValid<GloveboxAlarmEvent>(m.Payload.Span, m.Topic);
            if (e.Quantity != "o2") return Task.CompletedTask;
            lock (gate)
            {
                if (e.To == GloveboxAlarmLevels.Alarm) alarmSeen?.TrySetResult(now);
                if (e.To == GloveboxAlarmLevels.Ok) clearSeen?.TrySetResult(now);
            }
            return Task.CompletedTask;
        }).ConfigureAwait(false);
        await scan.SubscribeAsync(Topic.Status(instrument, ServiceNames.Glovebox), (m, _) =>
        {
            long now = Stopwatch.GetTimestamp();
            if (m.Payload.IsEmpty) return Task.CompletedTask;
            var status = SeccmJson.DeserializeValid<ServiceStatus>(m.Payload.Span, m.Topic);
            if (!status.IsOnline || status.Details is not { ValueKind: JsonValueKind.Object } details
                || !details.TryGetProperty("safeToScan", out var flag) || flag.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return Task.CompletedTask;
            }
            lock (gate)
            {
                safe = flag.GetBoolean();
                online.TrySetResult();
                if (safe == false) unsafeSeen?.TrySetResult(now);
                if (safe == true) safeSeen?.TrySetResult(now);
            }
            return Task.CompletedTask;
        }).ConfigureAwait(false);

        async Task<long> WaitAsync(Task<long> task, string what)
        {
            try
            {
                return await task.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new BenchException($"{what} did not come within {timeout.TotalSeconds:0} s (instrument {instrument})");
            }
        }

        async Task SimulateAsync(string scenario)
        {
            CommandReply reply;
            try
            {
                reply = await scan.RequestAsync(ServiceNames.Glovebox, GloveboxTopics.SimulateVerb, new SimulateCommand(scenario), TimeSpan.FromSeconds(10),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (CommandTimeoutException ex)
            {
                throw new BenchException(ex.Message);
            }
            if (!reply.Ok) throw new BenchException($"glovebox refused cmd/simulate {scenario}: {reply.Error?.Message}");
        }

        // A known safe start: the atmosphere at its baseline, status saying safe to scan.
        TaskCompletionSource<long> NewWait() => new(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await online.Task.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new BenchException($"the glovebox status did not say online with safeToScan within {timeout.TotalSeconds:0} s");
        }
        lock (gate)
        {
            safeSeen = NewWait();
            if (safe == true) safeSeen.TrySetResult(Stopwatch.GetTimestamp());
        }
        await WaitAsync(safeSeen.Task, "safeToScan true at the start").ConfigureAwait(false);

        var alarmMs = new List<double>(count);
        var unsafeMs = new List<double>(count);
        var wall = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            lock (gate)
            {
                alarmSeen = NewWait();
                unsafeSeen = NewWait();
            }
            // The previous all-clear came just after a poll: a random wait spreads the step over the sampling phase
            // instead of always landing just after a poll (which would always measure the worst case, one full period).
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(pollMs)), time, cancellationToken).ConfigureAwait(false);
            await SimulateAsync("leak").ConfigureAwait(false);
            long step = Stopwatch.GetTimestamp();
            world.Advance(LeakJump);
            var alarmAt = await WaitAsync(alarmSeen.Task, "the O2 alarm event").ConfigureAwait(false);
            var unsafeAt = await WaitAsync(unsafeSeen.Task, "the status saying safeToScan false").ConfigureAwait(false);
            alarmMs.Add(Stopwatch.GetElapsedTime(step, alarmAt).TotalMilliseconds);
            unsafeMs.Add(Stopwatch.GetElapsedTime(step, unsafeAt).TotalMilliseconds);

            lock (gate)
            {
                clearSeen = NewWait();
                safeSeen = NewWait();
            }
            await SimulateAsync("normal").ConfigureAwait(false);
            await WaitAsync(clearSeen.Task, "the O2 all-clear event").ConfigureAwait(false);
            await WaitAsync(safeSeen.Task, "the status saying safeToScan true again").ConfigureAwait(false);
        }
        wall.Stop();

        report.AddInfo("broker", broker.Kind);
        report.AddInfo("glovebox", FormattableString.Invariant(
            $"in-process glovebox service, simulated sensors, O2 alarm at {defaults.O2AlarmPpm} ppm, step ~1 -> ~17 ppm (leak scenario, world clock +{LeakJump.TotalSeconds} s; H2O alarms too)"));
        report.Add("excursions", count, "");
        report.Add("sampling_period_ms", pollMs, "ms", "Glovebox:PollIntervalMs (baseline)");
        report.Add("alarm_hold_ms", hold * 1000, "ms", "Glovebox:AlarmHoldSeconds: a level must persist this long before it counts");
        report.Add("alarm_event_median_ms", LatencyStats.Median(alarmMs), "ms", "O2 step -> event/alarm to 'alarm' on the broker");
        report.Add("alarm_event_max_ms", alarmMs.Max(), "ms");
        report.Add("unsafe_status_median_ms", LatencyStats.Median(unsafeMs), "ms", "O2 step -> retained status safeToScan false");
        report.Add("unsafe_status_max_ms", unsafeMs.Max(), "ms");
        report.Add("ratio_alarm_over_period", LatencyStats.Median(alarmMs) / pollMs, "x");
        report.Add("ratio_alarm_minus_hold_over_period", (LatencyStats.Median(alarmMs) - hold * 1000) / pollMs, "x", "what detection adds to the hold");
        report.Add("bench_wall_s", wall.Elapsed.TotalSeconds, "s");

        await scan.DisposeAsync().ConfigureAwait(false);
        await glovebox.DisposeAsync().ConfigureAwait(false);
        await broker.ClearStatusesAsync(instrument, [ServiceNames.Scan, ServiceNames.Glovebox], cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Real time plus an offset the bench can step forward: the simulated world's clock.</summary>
    private sealed class SteppedClock(TimeProvider source) : TimeProvider
    {
        private long _offsetTicks;

        public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() =>
            (long)(source.GetTimestamp() * ((double)TimeSpan.TicksPerSecond / source.TimestampFrequency)) + Interlocked.Read(ref _offsetTicks);

        public override DateTimeOffset GetUtcNow() => source.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
    }
}
