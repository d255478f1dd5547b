using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.TestSupport;

namespace Seccm.Diffusion.Tests;

/// <summary>A worker stopped mid-scan and started again with the same id on mosquitto (persistent session): the map loses nothing.</summary>
public sealed class RestartTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_restarted_worker_takes_earlier_results_from_the_broker_and_curves_from_its_spill_and_exports_every_pixel_once()
    {
        await using var broker = await MosquittoServer.StartAsync();
        var dir = Directory.CreateTempSubdirectory("seccm-diffusion-restart-").FullName;
        var persistent = new Dictionary<string, string?> { ["Mqtt:SessionExpirySeconds"] = "3600" };
        var scan = new SimulatedScan("scan-restart", 4);
        await using var client = await DiffusionHosts.ClientAsync(broker.Port);
        var exports = new System.Runtime.CompilerServices.StrongBox<int>();
        var (results, exported) = await DiffusionServiceTests.ListenAsync(client, scan.ScanId, exports);
        try
        {
            var (host, worker) = await DiffusionHosts.StartAsync(broker.Port, dir, "w", embeddedBroker: false, persistent);
            await client.PublishAsync(DiffusionHosts.ScanEvent("started"), scan.Started, retain: true);
            for (var p = 0; p < scan.Pixels; p++)
            {
                foreach (var c in scan.ChunksOf(p))
                {
                    await client.PublishAsync(PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scan.ScanId), c);
                }
            }
            for (var p = 0; p < 8; p++)
            {
                await client.PublishAsync(DiffusionHosts.ScanEvent("pixel"), scan.DoneEvent(p));
            }
            await Eventually.TrueAsync(() => results.Count == 8 && worker.PixelsRebuilt == scan.Pixels, "8 results, 16 pixels spilled", Timeout);
            await DiffusionHosts.StopAsync(host);

            // While it is away: the rest of the scan.
            for (var p = 8; p < scan.Pixels; p++)
            {
                await client.PublishAsync(DiffusionHosts.ScanEvent("pixel"), scan.DoneEvent(p));
            }
            await client.PublishAsync(DiffusionHosts.ScanEvent("finished"),
                new ScanFinishedEvent(scan.ScanId, ScanState.Completed, scan.Pixels, scan.Pixels, DateTimeOffset.UnixEpoch.AddHours(1)));

            var (again, restarted) = await DiffusionHosts.StartAsync(broker.Port, dir, "w", embeddedBroker: false, persistent);
            try
            {
                var done = await exported.Task.WaitAsync(Timeout);
                Assert.Equal(scan.Pixels, done.Summary.Pixels);
                var rows = DiffusionServiceTests.ReadCsv(Path.Combine(done.Directory, "diffusion_map.csv"));
                Assert.Equal(Enumerable.Range(0, scan.Pixels), rows.Select(r => int.Parse(r["pixel"], System.Globalization.CultureInfo.InvariantCulture)).Order());
                // Only the pixels whose events came while it was away were analysed after the restart, from the spilled curves.
                Assert.Equal(8, restarted.PixelsAnalysed);
                Assert.Equal(0, restarted.PixelsRebuilt);
                Assert.All(rows, r => Assert.InRange(double.Parse(r["d_cm2_s"], System.Globalization.CultureInfo.InvariantCulture)
                    / scan.TrueD[int.Parse(r["pixel"], System.Globalization.CultureInfo.InvariantCulture)], 0.95, 1.05));
                Assert.Equal(scan.Pixels, results.Count);
                Assert.All(results.Values, n => Assert.Equal(1, n));
                Assert.Equal(1, exports.Value);

                // The retained results are cleared after the export: a new subscriber gets none.
                await using var late = await DiffusionHosts.ClientAsync(broker.Port);
                var retained = 0;
                // The clearing messages follow the exported event.
                await Task.Delay(500);
                await late.SubscribeAsync(DiffusionWorker.RetainedResultFilter(DiffusionHosts.Instrument), (m, _) =>
                {
                    if (!m.Payload.IsEmpty)
                    {
                        Interlocked.Increment(ref retained);
                    }
                    return Task.CompletedTask;
                });
                await Task.Delay(1000);
                Assert.Equal(0, retained);
            }
            finally
            {
                await DiffusionHosts.StopAsync(again);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
