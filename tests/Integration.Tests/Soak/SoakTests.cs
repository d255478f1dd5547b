using System.Diagnostics;
using System.Globalization;
using System.Text;
using Seccm.Contracts.Scan;
using Seccm.Integration.Tests.Faults;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Integration.Tests.Soak;

/// <summary>
/// Four simulated instruments (<c>seccm all --instrument sN</c>) on one mosquitto, each scanning a small grid over and
/// over (a new scan as soon as one finishes) until every instrument has exported SECCM_SOAK_EXPORTS maps (default 8)
/// and at least SECCM_SOAK_SECONDS have passed (default 0; the issue's ten minutes is a manual run, SECCM_SOAK_SECONDS=600,
/// with SECCM_SOAK_REPORT=FILE for the whole RSS/queue record). The run's length and its phases follow the exports, not
/// the clock, so a loaded machine gets a longer run, not a failure. Checked: memory of every process bounded across
/// repeated scans and exports, no queue growing, every pixel done has exactly one result on the bus and one
/// <c>pixel_result</c> point, every finished scan its full map file.
/// </summary>
public sealed class SoakTests(ITestOutputHelper output)
{
    private const int Instruments = 4;

    // 16 pixels: about eight seconds a scan with four instruments on two cores (36 took 19 s warm, 37 s cold), so eight
    // exports each take about 70 s on an idle machine.
    private const int GridSize = 4;
    private static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Four_instruments_scan_repeatedly_on_one_broker_with_bounded_memory_and_queues_and_everything_written()
    {
        var minSeconds = int.TryParse(Environment.GetEnvironmentVariable("SECCM_SOAK_SECONDS"), CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 0;
        var exports = int.TryParse(Environment.GetEnvironmentVariable("SECCM_SOAK_EXPORTS"), CultureInfo.InvariantCulture, out var n) && n >= 4 ? n : 8;
        var clock = Stopwatch.StartNew();
        await using var broker = await MosquittoServer.StartAsync();
        var soak = new List<SoakInstrument>();
        try
        {
            for (var i = 1; i <= Instruments; i++)
            {
                var rig = await ScanRig.CreateAsync(output, $"s{i}x{Environment.ProcessId}", withInflux: false, sharedBroker: broker);
                var instrument = new SoakInstrument(rig, output, clock);
                soak.Add(instrument);
                await instrument.SubscribeAsync();
                rig.StartService("all", ChildEnvironment());
            }
            foreach (var x in soak)
            {
                await x.Rig.WaitAllOnlineAsync();
            }

            var recipe = ScanRig.SmallRecipe(GridSize);
            using var stop = new CancellationTokenSource();
            var t0 = clock.Elapsed.TotalSeconds;
            var scanning = soak.Select(x => Task.Run(() => x.KeepScanningAsync(recipe, stop.Token))).ToList();
            var samples = new List<(double AtS, long[] RssKb)>();
            var (exported, progressAt) = (0, clock.Elapsed);
            while (clock.Elapsed.TotalSeconds - t0 < minSeconds || soak.Any(x => x.Exports.Count < exports))
            {
                samples.Add((clock.Elapsed.TotalSeconds - t0, soak.Select(x => RssKb(x.Rig.Process("all").Process.Id)).ToArray()));
                var failed = scanning.FirstOrDefault(t => t.IsFaulted);
                if (failed is not null)
                {
                    await failed;
                }
                // A stall is an event too: no instrument exported anything for five minutes.
                if (soak.Sum(x => x.Exports.Count) is var total && total != exported)
                {
                    (exported, progressAt) = (total, clock.Elapsed);
                }
                Assert.True(clock.Elapsed - progressAt < TimeSpan.FromMinutes(5),
                    $"no map exported for five minutes; exports so far: {string.Join(", ", soak.Select(x => $"{x.Instrument} {x.Exports.Count}"))}");
                await Task.Delay(SampleInterval);
            }
            await stop.CancelAsync();
            await Task.WhenAll(scanning);
            var seconds = clock.Elapsed.TotalSeconds - t0;

            var report = Report(soak, samples, t0, seconds);
            output.WriteLine(report);
            if (Environment.GetEnvironmentVariable("SECCM_SOAK_REPORT") is { Length: > 0 } reportFile)
            {
                await File.WriteAllTextAsync(reportFile, report + Environment.NewLine + RssCsv(soak, samples));
            }

            foreach (var x in soak)
            {
                Assert.False(x.Rig.Process("all").HasExited, $"{x.Instrument} died: {x.Rig.Tail("all")}");
            }
            CheckMemory(soak, samples, t0, exports);
            CheckQueues(soak, t0, seconds);
            foreach (var x in soak)
            {
                await CheckEverythingWrittenAsync(x);
            }
        }
        finally
        {
            foreach (var x in soak)
            {
                await x.Rig.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Warm-up comes in two steps: the first export loads ScottPlot/SkiaSharp and PureHDF and jits them (about +50 MB at
    /// once), then the next exports give the threads they run on their malloc arenas and the GC its budgets (measured with
    /// two arenas: +30 MB over the next minute, flat after). So the phases are counted in each instrument's own exports:
    /// the baseline is the highest RSS between its second export and the middle one (after the first export), and the
    /// RSS after its last quarter of exports began may not rise above it by more than 15 % (GC timing) plus 10 MB (thread
    /// stacks, native caches). A leak grows on with every scan: with eight exports (two scans between the phases) this
    /// catches about 6 MB per scan, over the ten-minute run about 1.3 MB per scan.
    /// </summary>
    private static void CheckMemory(List<SoakInstrument> soak, List<(double AtS, long[] RssKb)> samples, double t0, int exports)
    {
        for (var p = 0; p < soak.Count; p++)
        {
            var x = soak[p];
            var at = x.Exports.Select(e => e.AtS - t0).Order().ToArray();
            Assert.True(at.Length >= exports, $"{x.Instrument} exported {at.Length} maps, the soak wants {exports}; {x.Rig.Tail("all")}");
            var (from, middle, lastQuarter) = (at[1], at[(at.Length - 1) / 2], at[(at.Length * 3 / 4) - 1]);
            var baselineSamples = samples.Where(v => v.AtS >= from && v.AtS <= middle).ToList();
            var lastSamples = samples.Where(v => v.AtS >= lastQuarter).ToList();
            Assert.True(baselineSamples.Count > 0 && lastSamples.Count > 0,
                $"{x.Instrument}: no RSS sample between the exports at {from:0} and {middle:0} s or after {lastQuarter:0} s");
            var baseline = baselineSamples.Max(v => v.RssKb[p]);
            var last = lastSamples.Max(v => v.RssKb[p]);
            var limit = (baseline * 1.15) + (10 * 1024);
            Assert.True(last <= limit,
                $"{x.Instrument}: RSS rose to {last / 1024.0:0.0} MB in the last quarter of its exports, above {limit / 1024.0:0.0} MB " +
                $"(1.15 x the {baseline / 1024.0:0.0} MB between exports 2 and {(at.Length + 1) / 2} + 10 MB): memory grows scan after scan");
        }
    }

    /// <summary>
    /// Queues may fill in bursts (a pixel's curve chunks, a batch of points) but must keep draining: a backlog that
    /// grows shows up as a second-half peak far above the first half's, or as a queue that never empties again.
    /// </summary>
    private static void CheckQueues(List<SoakInstrument> soak, double t0, double seconds)
    {
        foreach (var x in soak)
        {
            var q = x.Queues.ToArray();
            Assert.True(q.Length > 0, $"{x.Instrument}: no telemetry/queues message came");
            var byTick = q.GroupBy(v => (int)((v.AtS - t0) / 5)).Select(g => (AtS: g.Key * 5.0,
                Mqtt: g.Sum(v => v.Outgoing + v.ReceivedBacklog), Parked: g.Max(v => v.Parked), Sink: g.Max(v => v.SinkPending),
                Segments: g.Max(v => v.SinkSegments))).OrderBy(v => v.AtS).ToArray();
            var firstHalf = byTick.Where(v => v.AtS < seconds / 2.0).Select(v => v.Mqtt).DefaultIfEmpty(0).Max();
            var secondHalf = byTick.Where(v => v.AtS >= seconds / 2.0).Select(v => v.Mqtt).DefaultIfEmpty(0).Max();
            Assert.True(secondHalf <= Math.Max(500, 2 * firstHalf),
                $"{x.Instrument}: MQTT queues peaked at {secondHalf} messages in the second half after {firstHalf} in the first");
            var lastThird = byTick.Where(v => v.AtS >= seconds * 2 / 3.0).Select(v => v.Mqtt).DefaultIfEmpty(0).Min();
            Assert.True(lastThird <= 100, $"{x.Instrument}: the MQTT queues never came below {lastThird} messages in the last third");
            Assert.True(byTick.All(v => v.Parked <= 100), $"{x.Instrument}: up to {byTick.Max(v => v.Parked)} messages parked without a subscription");
            Assert.True(byTick.All(v => v.Segments == 0), $"{x.Instrument}: points went to the disk buffer although the files backend never failed");
            var sinkLate = byTick.Where(v => v.AtS >= seconds * 2 / 3.0).Select(v => v.Sink).DefaultIfEmpty(0).Min();
            Assert.True(sinkLate <= 1000, $"{x.Instrument}: the sink never held fewer than {sinkLate} points in the last third");
        }
    }

    /// <summary>Every pixel done: one result on the bus, one pixel_result point; every finished scan: completed, exported, all pixels in its CSV.</summary>
    private async Task CheckEverythingWrittenAsync(SoakInstrument x)
    {
        var rig = x.Rig;
        var done = rig.PixelEvents.Select(e => (e.ScanId, e.Index)).ToHashSet();
        Assert.True(done.Count > 0, $"{x.Instrument} scanned nothing: {rig.AllOutput()}");
        await Eventually.TrueAsync(() => done.IsSubsetOf(rig.PixelResults.Select(r => (r.ScanId, r.Index))),
            $"{x.Instrument}: a result on the bus for each of the {done.Count} pixels done", TimeSpan.FromSeconds(60));

        List<(string ScanId, int Pixel)> stored = [];
        await Eventually.TrueAsync(() => done.IsSubsetOf(stored = x.StoredPixelResults()),
            $"{x.Instrument}: a pixel_result point for each of the {done.Count} pixels done (stored {stored.Count})", TimeSpan.FromSeconds(60));
        var twice = stored.GroupBy(v => v).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"{x.Instrument}: pixel_result points written twice: {string.Join(", ", twice.Take(10))}");
        // The last scan runs on, so a point may be newer than the snapshot above: compare with the pixels done by now.
        List<(string ScanId, int Pixel)> unknown = [];
        await Eventually.TrueAsync(() => (unknown = stored.Where(v => !rig.PixelEvents.Any(e => e.ScanId == v.ScanId && e.Index == v.Pixel)).ToList()).Count == 0,
            $"{x.Instrument}: no pixel_result point of a pixel never reported done (such: {string.Join(", ", unknown.Take(10))})", TimeSpan.FromSeconds(30));

        var finished = rig.Finished.ToArray();
        Assert.True(finished.Length >= 2, $"{x.Instrument}: only {finished.Length} scans finished; the soak wants repeated scans");
        foreach (var f in finished)
        {
            Assert.True(f.State == ScanState.Completed && f.PixelsDone == GridSize * GridSize,
                $"{x.Instrument}: scan {f.ScanId} ended {f.State} with {f.PixelsDone} pixels");
            await Eventually.TrueAsync(() => x.Exports.Any(e => e.Event.ScanId == f.ScanId),
                $"{x.Instrument}: scan {f.ScanId} exported; {rig.Tail("all")}", TimeSpan.FromSeconds(60));
            var csv = Path.Combine(rig.MapsDirectory, f.ScanId, "diffusion_map.csv");
            var rows = File.ReadLines(csv).Skip(1).Count(l => l.Length > 0);
            Assert.True(rows == GridSize * GridSize, $"{csv}: {rows} pixel rows, expected {GridSize * GridSize}");
        }
    }

    private static string Report(List<SoakInstrument> soak, List<(double AtS, long[] RssKb)> samples, double t0, double seconds)
    {
        var text = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        text.AppendLine(ci, $"SOAK {soak.Count} x seccm all, {GridSize}x{GridSize} scans, {seconds:0} s");
        text.AppendLine(ci, $"t s | {string.Join(" | ", soak.Select(x => "RSS MB " + x.Instrument))} | MQTT queued (sum of 4) | sink pending (sum)");
        var every = Math.Max(10, seconds / 20);
        var next = 0.0;
        foreach (var (at, rss) in samples)
        {
            if (at < next && (at, rss) != samples[^1])
            {
                continue;
            }
            next = at + every;
            var near = soak.Select(x => x.Queues.Where(q => Math.Abs(q.AtS - t0 - at) <= 2.5).ToArray()).ToArray();
            text.AppendLine(ci,
                $"{at,5:0} | {string.Join(" | ", rss.Select(k => (k / 1024.0).ToString("0.0", ci)))} | {near.Sum(q => q.Sum(v => v.Outgoing + v.ReceivedBacklog))} | {near.Sum(q => q.Where(v => v.Service == "scan").Sum(v => v.SinkPending))}");
        }
        foreach (var x in soak)
        {
            var q = x.Queues.ToArray();
            var p = soak.IndexOf(x);
            var firstExport = x.Exports.IsEmpty ? double.NaN : x.Exports.Min(e => e.AtS) - t0;
            text.AppendLine(ci,
                $"{x.Instrument}: scans started {x.Started().Count}, finished {x.Rig.Finished.Count}, exports {x.Exports.Count} (first at {firstExport:0} s), " +
                $"pixels done {x.Rig.PixelEvents.Select(e => (e.ScanId, e.Index)).Distinct().Count()}, results {x.Rig.PixelResults.Count}; " +
                $"RSS min {samples.Min(v => v.RssKb[p]) / 1024.0:0.0} max {samples.Max(v => v.RssKb[p]) / 1024.0:0.0} last {samples[^1].RssKb[p] / 1024.0:0.0} MB; " +
                $"queues max: outgoing {q.Select(v => v.Outgoing).DefaultIfEmpty().Max()}, received backlog {q.Select(v => v.ReceivedBacklog).DefaultIfEmpty().Max()}, " +
                $"parked {q.Select(v => v.Parked).DefaultIfEmpty().Max()}, sink pending {q.Select(v => v.SinkPending).DefaultIfEmpty().Max()}, disk segments {q.Select(v => v.SinkSegments).DefaultIfEmpty().Max()}; " +
                $"GC committed max {q.Select(v => v.GcCommittedBytes).DefaultIfEmpty().Max() / 1048576.0:0.0} last {q.Select(v => v.GcCommittedBytes).LastOrDefault() / 1048576.0:0.0} MB");
        }
        return text.ToString();
    }

    private static string RssCsv(List<SoakInstrument> soak, List<(double AtS, long[] RssKb)> samples) =>
        $"t_s,{string.Join(',', soak.Select(x => "rss_kb_" + x.Instrument))}{Environment.NewLine}" +
        string.Join(Environment.NewLine, samples.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.AtS:0.0},{string.Join(',', v.RssKb)}")));

    /// <summary>
    /// The container image's MALLOC_ARENA_MAX=2 (deploy/Dockerfile), plus SECCM_SOAK_CHILD_ENV="K=V;K=V" for experiments
    /// by hand (MALLOC_ARENA_MAX=8 shows glibc's default on two cores).
    /// </summary>
    private static Dictionary<string, string> ChildEnvironment()
    {
        var env = new Dictionary<string, string> { ["MALLOC_ARENA_MAX"] = "2" };
        foreach (var kv in (Environment.GetEnvironmentVariable("SECCM_SOAK_CHILD_ENV") ?? "")
                     .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(kv => kv.Split('=', 2)))
        {
            env[kv[0]] = kv.Length > 1 ? kv[1] : "";
        }
        return env;
    }

    private static long RssKb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException($"no VmRSS in /proc/{pid}/status");
    }
}
