using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.TestSupport;

namespace Seccm.Diffusion.Tests;

/// <summary>
/// What a broker killed mid-scan leaves behind: done events and chunks it had accepted and never delivered. At scan end
/// the worker asks the scan (cmd/pixels) and the potentiostat (cmd/replay), here two buses that answer as those
/// services do, and exports every recorded pixel once.
/// </summary>
public sealed class ReconciliationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Pixels_whose_done_events_or_chunks_were_lost_are_recovered_from_the_scan_and_the_potentiostat_before_the_export()
    {
        var dir = Directory.CreateTempSubdirectory("seccm-diffusion-reconcile-").FullName;
        var port = FreePort.Next();
        var (host, _) = await DiffusionHosts.StartAsync(port, dir, null, embeddedBroker: true, new Dictionary<string, string?>
        {
            ["Diffusion:ReconcileAfterS"] = "0.5",
            ["Diffusion:ReplayWaitS"] = "30",
            // Long enough that only the reconciliation can complete the pixels before the test's timeout.
            ["Diffusion:CurveWaitS"] = "600",
            ["Diffusion:ExportWaitS"] = "600",
            ["Diffusion:FlatOutput"] = "true",
        });
        var scan = new SimulatedScan("scan-lost", 3);
        const int EventLost = 2, ChunksLost = 4, BothLost = 6, NeverRecorded = 7, HalfOfChunksLost = 8;
        await using var client = await DiffusionHosts.ClientAsync(port);
        var (results, exported) = await DiffusionServiceTests.ListenAsync(client, scan.ScanId);
        await using var scanService = await ServiceBusAsync(ServiceNames.Scan, port);
        await using var potentiostat = await ServiceBusAsync(ServiceNames.Potentiostat, port);
        var pixelQueries = 0;
        await scanService.MapCommandAsync<ScanPixelsCommand, ScanPixelsResult>(ScanTopics.PixelsVerb, (command, _) =>
        {
            Interlocked.Increment(ref pixelQueries);
            Assert.Equal(scan.ScanId, command.ScanId);
            var recorded = Enumerable.Range(0, scan.Pixels).Select(scan.DoneEvent)
                .Select(e => new RecordedPixel(e.Index, e.Ix, e.Iy, e.XUm, e.YUm, e.Contact, e.ContactZUm)).ToList();
            return Task.FromResult(new ScanPixelsResult(scan.ScanId, ScanState.Completed, scan.Pixels, recorded));
        });
        var replayed = new ConcurrentQueue<IReadOnlyList<int>>();
        await potentiostat.MapCommandAsync<ReplayCommand, ReplayResult>(PotentiostatTopics.ReplayVerb, async (command, _) =>
        {
            replayed.Enqueue(command.Pixels);
            var sent = new List<int>();
            var chunks = 0;
            foreach (var pixel in command.Pixels.Where(p => p != NeverRecorded))
            {
                foreach (var c in scan.ChunksOf(pixel))
                {
                    await potentiostat.PublishAsync(PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scan.ScanId), c);
                    chunks++;
                }
                sent.Add(pixel);
            }
            return new ReplayResult(command.ScanId, sent, chunks, [.. command.Pixels.Where(p => p == NeverRecorded)]);
        });
        try
        {
            await client.PublishAsync(DiffusionHosts.ScanEvent("started"), scan.Started, retain: true);
            for (var p = 0; p < scan.Pixels; p++)
            {
                var chunks = scan.ChunksOf(p);
                var delivered = p switch
                {
                    ChunksLost or BothLost or NeverRecorded => [],
                    HalfOfChunksLost => chunks.Take(chunks.Count / 2),
                    _ => chunks,
                };
                foreach (var c in delivered)
                {
                    await client.PublishAsync(PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scan.ScanId), c);
                }
                if (p is not (EventLost or BothLost or NeverRecorded))
                {
                    await client.PublishAsync(DiffusionHosts.ScanEvent("pixel"), scan.DoneEvent(p));
                }
            }
            var finishedUtc = DateTimeOffset.UnixEpoch.AddHours(1);
            await client.PublishAsync(DiffusionHosts.ScanEvent("finished"),
                new ScanFinishedEvent(scan.ScanId, ScanState.Completed, scan.Pixels, scan.Pixels, finishedUtc));

            var done = await exported.Task.WaitAsync(Timeout);

            Assert.Equal(1, pixelQueries);
            // Only the pixels without a result whose curves were incomplete, in one request.
            Assert.Equal([ChunksLost, BothLost, NeverRecorded, HalfOfChunksLost], Assert.Single(replayed).Order());
            var rows = DiffusionServiceTests.ReadCsv(Path.Combine(done.Directory, "diffusion_map.csv"));
            Assert.Equal(Enumerable.Range(0, scan.Pixels), rows.Select(r => int.Parse(r["pixel"], CultureInfo.InvariantCulture)).Order());
            foreach (var row in rows)
            {
                var pixel = int.Parse(row["pixel"], CultureInfo.InvariantCulture);
                if (pixel == NeverRecorded)
                {
                    // Exported with what there is: contact, no curves, no D.
                    Assert.Equal("", row["d_cm2_s"]);
                    continue;
                }
                Assert.InRange(double.Parse(row["d_cm2_s"], CultureInfo.InvariantCulture) / scan.TrueD[pixel], 0.95, 1.05);
            }
            Assert.Equal(scan.Pixels, results.Count);
            Assert.All(results.Values, n => Assert.Equal(1, n));

            var lines = Directory.GetFiles(dir, "*.lp", SearchOption.AllDirectories).SelectMany(File.ReadAllLines)
                .Where(l => l.StartsWith("pixel_result,", StringComparison.Ordinal)).ToList();
            Assert.Equal(scan.Pixels, lines.Count);
            Assert.Equal(scan.Pixels, lines.Select(l => l[(l.LastIndexOf(' ') + 1)..]).Distinct().Count());
            // A pixel known only from the scan's record is stamped with the scan's end (deterministic across a worker restart).
            var finishedMs = (finishedUtc.ToUnixTimeMilliseconds() * 1_000_000).ToString(CultureInfo.InvariantCulture)[..^6];
            Assert.Contains(lines, l => l.Contains("pixel=2i", StringComparison.Ordinal) && l[(l.LastIndexOf(' ') + 1)..].StartsWith(finishedMs, StringComparison.Ordinal));
        }
        finally
        {
            await DiffusionHosts.StopAsync(host);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Without_an_answer_from_the_scan_the_export_waits_its_time_and_names_no_pixel_twice()
    {
        var dir = Directory.CreateTempSubdirectory("seccm-diffusion-reconcile-").FullName;
        var port = FreePort.Next();
        var (host, _) = await DiffusionHosts.StartAsync(port, dir, null, embeddedBroker: true, new Dictionary<string, string?>
        {
            ["Diffusion:ReconcileAfterS"] = "0.2",
            ["Diffusion:ReplayWaitS"] = "1",
            ["Diffusion:ExportWaitS"] = "8",
            ["Diffusion:FlatOutput"] = "true",
        });
        var scan = new SimulatedScan("scan-alone", 2);
        await using var client = await DiffusionHosts.ClientAsync(port);
        var (results, exported) = await DiffusionServiceTests.ListenAsync(client, scan.ScanId);
        try
        {
            await client.PublishAsync(DiffusionHosts.ScanEvent("started"), scan.Started, retain: true);
            for (var p = 0; p < scan.Pixels; p++)
            {
                foreach (var c in scan.ChunksOf(p))
                {
                    await client.PublishAsync(PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scan.ScanId), c);
                }
                if (p != 3)
                {
                    await client.PublishAsync(DiffusionHosts.ScanEvent("pixel"), scan.DoneEvent(p));
                }
            }
            await client.PublishAsync(DiffusionHosts.ScanEvent("finished"),
                new ScanFinishedEvent(scan.ScanId, ScanState.Completed, scan.Pixels, scan.Pixels, DateTimeOffset.UnixEpoch.AddHours(1)));

            // No scan service answers cmd/pixels: the worker exports the three pixels it has, once each.
            var done = await exported.Task.WaitAsync(Timeout);
            var rows = DiffusionServiceTests.ReadCsv(Path.Combine(done.Directory, "diffusion_map.csv"));
            Assert.Equal([0, 1, 2], rows.Select(r => int.Parse(r["pixel"], CultureInfo.InvariantCulture)).Order());
            Assert.All(results.Values, n => Assert.Equal(1, n));
        }
        finally
        {
            await DiffusionHosts.StopAsync(host);
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static async Task<MqttBus> ServiceBusAsync(string service, int port)
    {
        var bus = new MqttBus(service, new SeccmOptions { Instrument = DiffusionHosts.Instrument },
            new MqttOptions { Host = "127.0.0.1", Port = port, SessionExpirySeconds = 0 }, NullLogger.Instance, TimeProvider.System);
        await bus.StartAsync(CancellationToken.None);
        await bus.WaitConnectedAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        return bus;
    }
}
