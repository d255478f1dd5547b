using System.Collections.Concurrent;
using System.Globalization;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Topics;
using Seccm.TestSupport;

namespace Seccm.Diffusion.Tests.Reconciliation;

/// <summary>
/// Several workers on a real mosquitto and a broker that lost chunks: the lost pixels' done events went to either worker
/// (the share group splits them), the scan's end to one. Each lost pixel is analysed once, by the worker that took it on.
/// </summary>
public sealed class SharedReconciliationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task A_lost_pixel_is_analysed_once_whichever_worker_reconciles()
    {
        await using var broker = await MosquittoServer.StartAsync();
        var dir = Directory.CreateTempSubdirectory("seccm-diffusion-shared-reconcile-").FullName;
        var settings = new Dictionary<string, string?>
        {
            ["Diffusion:ReconcileAfterS"] = "0.5",
            ["Diffusion:ReplayWaitS"] = "60",
            // Only the reconciliation's replay completes the lost pixels before the test's timeout.
            ["Diffusion:CurveWaitS"] = "600",
            ["Diffusion:ExportWaitS"] = "600",
        };
        var workers = new List<(Microsoft.Extensions.Hosting.IHost Host, DiffusionWorker Worker)>();
        foreach (var id in new[] { "w1", "w2" })
        {
            workers.Add(await DiffusionHosts.StartAsync(broker.Port, dir, id, embeddedBroker: false, settings));
        }
        Assert.All(workers, w => Assert.True(w.Worker.Shared));
        var scan = new SimulatedScan("scan-shared-lost", 3);
        // Mixed parities: the share group hands the done events round, so both workers hold some of these.
        int[] chunksLost = [1, 2, 4, 7];
        await using var client = await DiffusionHosts.ClientAsync(broker.Port);
        var exports = new System.Runtime.CompilerServices.StrongBox<int>();
        var (results, exported) = await DiffusionServiceTests.ListenAsync(client, scan.ScanId, exports);
        await using var scanService = await ReconciliationTests.ServiceBusAsync(ServiceNames.Scan, broker.Port);
        await using var potentiostat = await ReconciliationTests.ServiceBusAsync(ServiceNames.Potentiostat, broker.Port);
        var pixelQueries = 0;
        await scanService.MapCommandAsync<ScanPixelsCommand, ScanPixelsResult>(ScanTopics.PixelsVerb, (command, _) =>
        {
            Interlocked.Increment(ref pixelQueries);
            var recorded = Enumerable.Range(0, scan.Pixels).Select(scan.DoneEvent)
                .Select(e => new RecordedPixel(e.Index, e.Ix, e.Iy, e.XUm, e.YUm, e.Contact, e.ContactZUm)).ToList();
            return Task.FromResult(new ScanPixelsResult(scan.ScanId, ScanState.Completed, scan.Pixels, recorded));
        });
        var replays = new ConcurrentQueue<IReadOnlyList<int>>();
        await potentiostat.MapCommandAsync<ReplayCommand, ReplayResult>(PotentiostatTopics.ReplayVerb, async (command, _) =>
        {
            replays.Enqueue(command.Pixels);
            var chunks = 0;
            foreach (var pixel in command.Pixels)
            {
                foreach (var c in scan.ChunksOf(pixel))
                {
                    await potentiostat.PublishAsync(PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scan.ScanId), c);
                    chunks++;
                }
            }
            return new ReplayResult(command.ScanId, command.Pixels, chunks, []);
        });
        try
        {
            await client.PublishAsync(DiffusionHosts.ScanEvent("started"), scan.Started, retain: true);
            for (var p = 0; p < scan.Pixels; p++)
            {
                if (!chunksLost.Contains(p))
                {
                    foreach (var c in scan.ChunksOf(p))
                    {
                        await client.PublishAsync(PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scan.ScanId), c);
                    }
                }
                await client.PublishAsync(DiffusionHosts.ScanEvent("pixel"), scan.DoneEvent(p));
            }
            // Each worker waits for the curves of a lost pixel (and holds the done events queued behind it) when the scan ends.
            await Eventually.TrueAsync(() => workers.All(w => w.Worker.PixelsWaiting > 0), "both workers to wait for a lost pixel", Timeout);
            await client.PublishAsync(DiffusionHosts.ScanEvent("finished"),
                new ScanFinishedEvent(scan.ScanId, ScanState.Completed, scan.Pixels, scan.Pixels, DateTimeOffset.UnixEpoch.AddHours(1)));
            var done = await exported.Task.WaitAsync(Timeout);

            Assert.Equal(1, pixelQueries);
            // Every lost pixel is asked for (a loaded worker may also ask for chunks still in its queue: duplicates are dropped).
            Assert.Subset(Assert.Single(replays).ToHashSet(), chunksLost.ToHashSet());
            var rows = DiffusionServiceTests.ReadCsv(Path.Combine(done.Directory, "diffusion_map.csv"));
            Assert.Equal(Enumerable.Range(0, scan.Pixels), rows.Select(r => int.Parse(r["pixel"], CultureInfo.InvariantCulture)).Order());
            Assert.All(rows, r => Assert.InRange(
                double.Parse(r["d_cm2_s"], CultureInfo.InvariantCulture) / scan.TrueD[int.Parse(r["pixel"], CultureInfo.InvariantCulture)], 0.95, 1.05));
        }
        finally
        {
            foreach (var (host, _) in workers)
            {
                await DiffusionHosts.StopAsync(host);
            }
        }
        // Stopped: every point is in the files, every result was delivered.
        Assert.Equal(scan.Pixels, results.Count);
        Assert.All(results, r => Assert.True(r.Value == 1, $"pixel {r.Key} was analysed {r.Value} times"));
        var points = Directory.GetFiles(dir, "*.lp", SearchOption.AllDirectories).SelectMany(File.ReadAllLines)
            .Count(l => l.StartsWith("pixel_result,", StringComparison.Ordinal));
        Assert.Equal(scan.Pixels, points);
        Assert.Equal(1, exports.Value);
        Directory.Delete(dir, recursive: true);
    }
}
