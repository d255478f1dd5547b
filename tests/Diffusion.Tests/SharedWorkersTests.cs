using System.Collections.Concurrent;
using System.Diagnostics;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Diffusion.Tests;

/// <summary>Several workers on a real mosquitto: the shared subscription splits the pixels, the map is the same as one worker's.</summary>
public sealed class SharedWorkersTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);
    private const int Side = 8;

    private sealed record Run(double Seconds, IReadOnlyDictionary<int, int> ResultsPerPixel, int Exports, List<Dictionary<string, string>> Rows,
        long[] AnalysedPerWorker);

    /// <summary>
    /// All chunks first (every worker rebuilds every pixel, whoever analyses it), then all done events at once: the time from
    /// the first event to the last result is the analysis throughput of the workers.
    /// </summary>
    private async Task<Run> RunAsync(MosquittoServer broker, string dir, string scanId, string[] workerIds)
    {
        var workers = new List<(Microsoft.Extensions.Hosting.IHost Host, DiffusionWorker Worker)>();
        foreach (var id in workerIds)
        {
            workers.Add(await DiffusionHosts.StartAsync(broker.Port, dir, id, embeddedBroker: false));
        }
        await using var client = await DiffusionHosts.ClientAsync(broker.Port);
        try
        {
            Assert.All(workers, w => Assert.True(w.Worker.Shared));
            var scan = new SimulatedScan(scanId, Side);
            // One subscription per topic: overlapping filters would deliver copies.
            var exports = new System.Runtime.CompilerServices.StrongBox<int>();
            var (results, exported) = await DiffusionServiceTests.ListenAsync(client, scanId, exports);
            await client.PublishAsync(DiffusionHosts.ScanEvent("started"), scan.Started, retain: true);
            for (var p = 0; p < scan.Pixels; p++)
            {
                foreach (var c in scan.ChunksOf(p))
                {
                    await client.PublishAsync(PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scanId), c);
                }
            }
            await Eventually.TrueAsync(() => workers.All(w => w.Worker.PixelsRebuilt == scan.Pixels), "every worker to rebuild every pixel", Timeout);

            var stopwatch = Stopwatch.StartNew();
            for (var p = 0; p < scan.Pixels; p++)
            {
                await client.PublishAsync(DiffusionHosts.ScanEvent("pixel"), scan.DoneEvent(p));
            }
            await Eventually.TrueAsync(() => results.Count == scan.Pixels, "a result for every pixel", Timeout);
            var seconds = stopwatch.Elapsed.TotalSeconds;
            await client.PublishAsync(DiffusionHosts.ScanEvent("finished"),
                new ScanFinishedEvent(scanId, ScanState.Completed, scan.Pixels, scan.Pixels, DateTimeOffset.UnixEpoch.AddHours(1)));
            var done = await exported.Task.WaitAsync(Timeout);
            // Give a second exporter (there must be none) time to show itself.
            await Task.Delay(500);
            var rows = DiffusionServiceTests.ReadCsv(Path.Combine(done.Directory, "diffusion_map.csv"));
            return new Run(seconds, new Dictionary<int, int>(results), exports.Value, rows, workers.Select(w => w.Worker.PixelsAnalysed).ToArray());
        }
        finally
        {
            foreach (var (host, _) in workers)
            {
                await DiffusionHosts.StopAsync(host);
            }
        }
    }

    [Fact]
    public async Task Two_workers_make_the_same_map_as_one_and_analyse_each_pixel_once()
    {
        await using var broker = await MosquittoServer.StartAsync();
        var dir = Directory.CreateTempSubdirectory("seccm-diffusion-shared-").FullName;
        try
        {
            var one = await RunAsync(broker, dir, "scan-one", ["solo"]);
            var two = await RunAsync(broker, dir, "scan-two", ["w1", "w2"]);

            foreach (var run in new[] { one, two })
            {
                Assert.Equal(Side * Side, run.ResultsPerPixel.Count);
                Assert.All(run.ResultsPerPixel.Values, n => Assert.Equal(1, n));
                Assert.Equal(1, run.Exports);
                Assert.Equal(Side * Side, run.AnalysedPerWorker.Sum());
            }
            Assert.All(two.AnalysedPerWorker, n => Assert.True(n > 0, "a worker of the share group got no pixel"));
            // Same curves, same analysis: the same numbers, to the last digit.
            string[] columns = ["pixel_x", "pixel_y", "d_cm2_s", "r2", "flag", "dep_v", "k0_cm_s", "topography_nm"];
            Assert.Equal(one.Rows.Select(r => columns.Select(c => r[c])), two.Rows.Select(r => columns.Select(c => r[c])));

            var rate1 = Side * Side / one.Seconds;
            var rate2 = Side * Side / two.Seconds;
            output.WriteLine($"one worker: {rate1:0.0} pixels/s; two workers: {rate2:0.0} pixels/s together " +
                $"({two.AnalysedPerWorker[0]} + {two.AnalysedPerWorker[1]} pixels), {rate2 / 2:0.0} per worker; ratio {rate2 / rate1:0.00}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
