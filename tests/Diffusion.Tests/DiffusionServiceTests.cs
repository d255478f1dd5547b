using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Diffusion.Tests;

/// <summary>The diffusion service end to end on the embedded broker (one worker): chunks in, results and map files out.</summary>
public sealed class DiffusionServiceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    internal static async Task PublishScanAsync(MqttBus client, SimulatedScan scan, Random random, int eventFirstPixel = -1)
    {
        await client.PublishAsync(DiffusionHosts.ScanEvent("started"), scan.Started, retain: true);
        for (var p = 0; p < scan.Pixels; p++)
        {
            var chunks = scan.ChunksOf(p);
            // Out of order, a few twice (QoS 1 redelivery).
            chunks = [.. chunks.Concat(chunks.Where(_ => random.Next(4) == 0)).OrderBy(_ => random.Next())];
            if (p == eventFirstPixel)
            {
                await client.PublishAsync(DiffusionHosts.ScanEvent("pixel"), scan.DoneEvent(p));
            }
            foreach (var c in chunks)
            {
                await client.PublishAsync(PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scan.ScanId), c);
            }
            if (p != eventFirstPixel)
            {
                await client.PublishAsync(DiffusionHosts.ScanEvent("pixel"), scan.DoneEvent(p));
            }
        }
        await client.PublishAsync(DiffusionHosts.ScanEvent("finished"),
            new ScanFinishedEvent(scan.ScanId, ScanState.Completed, scan.Pixels, scan.Pixels, DateTimeOffset.UnixEpoch.AddHours(1)));
    }

    internal static async Task<(ConcurrentDictionary<int, int> ResultsPerPixel, TaskCompletionSource<DiffusionExportedEvent> Exported)> ListenAsync(
        MqttBus client, string scanId, System.Runtime.CompilerServices.StrongBox<int>? exports = null)
    {
        var results = new ConcurrentDictionary<int, int>();
        var exported = new TaskCompletionSource<DiffusionExportedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.SubscribeAsync(DiffusionTopics.PixelResultTopic(DiffusionHosts.Instrument, scanId), (m, _) =>
        {
            var r = SeccmJson.Deserialize<PixelResultMessage>(m.Payload.Span, m.Topic);
            results.AddOrUpdate(r.Index, 1, (_, n) => n + 1);
            return Task.CompletedTask;
        });
        await client.SubscribeAsync(DiffusionTopics.ExportedTopic(DiffusionHosts.Instrument), (m, _) =>
        {
            var e = SeccmJson.Deserialize<DiffusionExportedEvent>(m.Payload.Span, m.Topic);
            if (e.ScanId == scanId)
            {
                if (exports is not null)
                {
                    Interlocked.Increment(ref exports.Value);
                }
                exported.TrySetResult(e);
            }
            return Task.CompletedTask;
        });
        return (results, exported);
    }

    /// <summary>The CSV as rows of named fields.</summary>
    internal static List<Dictionary<string, string>> ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        return lines.Skip(1).Select(l => header.Zip(l.Split(',')).ToDictionary(x => x.First, x => x.Second)).ToList();
    }

    [Fact]
    public async Task A_scan_becomes_a_D_map_within_5_percent_of_the_simulated_truth_with_every_file()
    {
        var dir = Directory.CreateTempSubdirectory("seccm-diffusion-").FullName;
        var port = FreePort.Next();
        var (host, worker) = await DiffusionHosts.StartAsync(port, dir, null, embeddedBroker: true);
        var scan = new SimulatedScan("scan-e2e", 4, noContactPixel: 6);
        await using var client = await DiffusionHosts.ClientAsync(port);
        try
        {
            Assert.False(worker.Shared);
            var (results, exported) = await ListenAsync(client, scan.ScanId);
            var maps = 0;
            await client.SubscribeAsync(DiffusionTopics.MapTopic(DiffusionHosts.Instrument, scan.ScanId), (_, _) =>
            {
                Interlocked.Increment(ref maps);
                return Task.CompletedTask;
            });

            // Malformed input on every subscribed topic first: logged and dropped, the service goes on.
            await client.PublishRawAsync(PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scan.ScanId), "not json"u8.ToArray());
            await client.PublishRawAsync(PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scan.ScanId),
                SeccmJson.Serialize(scan.ChunksOf(0)[0] with { RateIndex = 99 }));
            await client.PublishRawAsync(DiffusionHosts.ScanEvent("pixel"), "{\"scanId\":\"x\"}"u8.ToArray());
            await client.PublishRawAsync(DiffusionHosts.ScanEvent("finished"), "[]"u8.ToArray());
            await client.PublishRawAsync(DiffusionTopics.PixelResultTopic(DiffusionHosts.Instrument, scan.ScanId), "{}"u8.ToArray());

            await PublishScanAsync(client, scan, new Random(3), eventFirstPixel: 1);
            var done = await exported.Task.WaitAsync(Timeout);

            Assert.Equal(scan.Pixels, results.Count);
            Assert.All(results.Values, n => Assert.Equal(1, n));
            Assert.Equal(scan.Pixels, worker.PixelsAnalysed);
            Assert.True(maps > 0);
            Assert.Equal(Path.Combine(dir, scan.ScanId), done.Directory);
            string[] expected = ["diffusion_map.png", "dep_map.png", "k0_map.png", "topography.png", "d_histogram.png", "example_cvs.png",
                "diffusion_map.csv", "diffusion_map.gsf", "dep_map.gsf", "k0_map.gsf", "topography.gsf", "scan.h5", "summary.json"];
            foreach (var f in expected)
            {
                Assert.Contains(f, done.Files);
                Assert.True(new FileInfo(Path.Combine(done.Directory, f)).Length > 100, $"{f} is missing or tiny");
            }
            Assert.Empty(Directory.GetFiles(done.Directory, ".*.tmp"));

            var csv = File.ReadAllLines(Path.Combine(done.Directory, "diffusion_map.csv"));
            Assert.StartsWith("pixel_x,pixel_y,d_cm2_s,r2,flag", csv[0], StringComparison.Ordinal);
            // seccm analyze writes the same columns (one table layout for both).
            Assert.Equal(string.Join(",", Seccm.Maps.Tables.DiffusionTable.Build([]).Columns.Select(c => c.Name)), csv[0]);
            var rows = ReadCsv(Path.Combine(done.Directory, "diffusion_map.csv"));
            Assert.Equal(scan.Pixels, rows.Count);
            foreach (var row in rows)
            {
                var pixel = int.Parse(row["pixel"], CultureInfo.InvariantCulture);
                if (pixel == scan.NoContactPixel)
                {
                    Assert.Equal("", row["d_cm2_s"]);
                    Assert.Equal("no_contact", row["flag"]);
                    continue;
                }
                var d = double.Parse(row["d_cm2_s"], CultureInfo.InvariantCulture);
                output.WriteLine($"pixel {pixel}: D {d:0.000e0} truth {scan.TrueD[pixel]:0.000e0} ratio {d / scan.TrueD[pixel]:0.000} flag {row["flag"]}");
                Assert.InRange(d / scan.TrueD[pixel], 0.95, 1.05);
                Assert.NotEqual("", row["topography_nm"]);
            }

            using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(done.Directory, "summary.json")));
            Assert.Equal(scan.Pixels, summary.RootElement.GetProperty("pixels").GetInt32());
            Assert.Equal(scan.Pixels - 1, summary.RootElement.GetProperty("pixels_with_d").GetInt32());
            Assert.Equal(scan.Pixels - 1, done.Summary.PixelsWithD);
            var median = summary.RootElement.GetProperty("median_d_cm2_s").GetDouble();
            Assert.InRange(median, 1e-11, 5e-11);

            // The HDF5 holds every raw sample of the scan (15 pixels x 5 rates).
            var samples = Enumerable.Range(0, scan.Pixels).Sum(p => scan.ChunksOf(p).Sum(c => (long)c.CurrentA.Length));
            Assert.True(new FileInfo(Path.Combine(done.Directory, "scan.h5")).Length > samples * 16, "scan.h5 lacks the raw curves");

            // cmd/export again, and for a scan nobody knows.
            var again = await client.CallAsync<ExportCommand, DiffusionExportedEvent>(ServiceNames.Diffusion, DiffusionTopics.ExportVerb,
                new ExportCommand(scan.ScanId), Timeout);
            Assert.Equal(done.Files.Order(), again.Files.Order());
            var unknown = await Assert.ThrowsAsync<CommandFailedException>(() => client.CallAsync<ExportCommand, DiffusionExportedEvent>(
                ServiceNames.Diffusion, DiffusionTopics.ExportVerb, new ExportCommand("nope"), Timeout));
            Assert.Equal(ErrorCodes.InvalidArgument, unknown.Code);
            Assert.Contains("nope", unknown.Message);
        }
        finally
        {
            await DiffusionHosts.StopAsync(host);
        }

        // Time series: one pixel_result per pixel and one cv_peak per rate, each with its own timestamp.
        var lines = Directory.GetFiles(Path.Combine(dir, "timeseries-"), "*.lp", SearchOption.AllDirectories).SelectMany(File.ReadAllLines).ToList();
        var pixelLines = lines.Where(l => l.StartsWith("pixel_result,", StringComparison.Ordinal)).ToList();
        Assert.Equal(scan.Pixels, pixelLines.Count);
        Assert.All(pixelLines, l => Assert.Contains("scan_id=scan-e2e", l));
        Assert.Contains(pixelLines, l => l.Contains("d_cm2_s=", StringComparison.Ordinal) && l.Contains("contact_z_um=", StringComparison.Ordinal));
        var peakLines = lines.Where(l => l.StartsWith("cv_peak,", StringComparison.Ordinal)).ToList();
        Assert.Equal((scan.Pixels - 1) * SimulatedScan.Rates.Length, peakLines.Count);
        Assert.Contains(peakLines, l => l.Contains("sqrt_scan_rate=", StringComparison.Ordinal) && l.Contains("ip_a=", StringComparison.Ordinal));
        Assert.Equal(peakLines.Count, peakLines.Select(l => l[(l.LastIndexOf(' ') + 1)..]).Distinct().Count());
        Assert.Equal(pixelLines.Count, pixelLines.Select(l => l[(l.LastIndexOf(' ') + 1)..]).Distinct().Count());
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Well_formed_but_out_of_range_events_are_refused_by_the_contract_and_change_nothing()
    {
        var dir = Directory.CreateTempSubdirectory("seccm-diffusion-").FullName;
        var port = FreePort.Next();
        var (host, worker) = await DiffusionHosts.StartAsync(port, dir, null, embeddedBroker: true);
        var scan = new SimulatedScan("scan-contract", 2);
        await using var client = await DiffusionHosts.ClientAsync(port);
        try
        {
            var exports = new System.Runtime.CompilerServices.StrongBox<int>();
            var (results, exported) = await ListenAsync(client, scan.ScanId, exports);
            // Each would change the map if taken: a chunk whose arrays disagree in length (it would be pixel 0's first
            // chunk), pixel 0 done at ix -1, a finished event with more pixels done than the scan has (an early export).
            await client.PublishAsync(PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scan.ScanId),
                scan.ChunksOf(0)[0] with { CurrentA = [1e-9] });
            await client.PublishAsync(DiffusionHosts.ScanEvent("pixel"), scan.DoneEvent(0) with { Ix = -1 });
            await client.PublishAsync(DiffusionHosts.ScanEvent("finished"),
                new ScanFinishedEvent(scan.ScanId, ScanState.Completed, scan.Pixels + 1, scan.Pixels, DateTimeOffset.UnixEpoch));

            await PublishScanAsync(client, scan, new Random(7));
            var done = await exported.Task.WaitAsync(Timeout);

            Assert.Equal(scan.Pixels, results.Count);
            Assert.All(results.Values, n => Assert.Equal(1, n));
            Assert.Equal(scan.Pixels, worker.PixelsAnalysed);
            var rows = ReadCsv(Path.Combine(done.Directory, "diffusion_map.csv"));
            Assert.Equal(scan.Pixels, rows.Count);
            foreach (var row in rows)
            {
                var pixel = int.Parse(row["pixel"], CultureInfo.InvariantCulture);
                Assert.Equal(scan.Started.Pixels[pixel].Ix, int.Parse(row["pixel_x"], CultureInfo.InvariantCulture));
                var d = double.Parse(row["d_cm2_s"], CultureInfo.InvariantCulture);
                Assert.InRange(d / scan.TrueD[pixel], 0.95, 1.05);
            }
        }
        finally
        {
            await DiffusionHosts.StopAsync(host);
        }
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task A_pixel_whose_chunks_never_complete_is_analysed_with_what_arrived_after_the_wait()
    {
        var dir = Directory.CreateTempSubdirectory("seccm-diffusion-").FullName;
        var port = FreePort.Next();
        var (host, _) = await DiffusionHosts.StartAsync(port, dir, null, embeddedBroker: true,
            new Dictionary<string, string?> { ["Diffusion:CurveWaitS"] = "0.5", ["Diffusion:FlatOutput"] = "true" });
        var scan = new SimulatedScan("scan-lost", 2);
        await using var client = await DiffusionHosts.ClientAsync(port);
        try
        {
            var (results, exported) = await ListenAsync(client, scan.ScanId);
            await client.PublishAsync(DiffusionHosts.ScanEvent("started"), scan.Started, retain: true);
            // Pixel 0 loses the last chunk of its fastest rate: 4 of 5 rates are complete.
            foreach (var c in scan.ChunksOf(0).Where(c => !(c.RateIndex == 4 && c.Last)))
            {
                await client.PublishAsync(PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scan.ScanId), c);
            }
            await client.PublishAsync(DiffusionHosts.ScanEvent("pixel"), scan.DoneEvent(0));
            await client.PublishAsync(DiffusionHosts.ScanEvent("finished"),
                new ScanFinishedEvent(scan.ScanId, ScanState.Aborted, 1, scan.Pixels, DateTimeOffset.UnixEpoch));
            var done = await exported.Task.WaitAsync(Timeout);
            Assert.Equal(dir, done.Directory);
            Assert.Equal(1, results[0]);
            var row = ReadCsv(Path.Combine(dir, "diffusion_map.csv")).Single(r => r["pixel"] == "0");
            Assert.Equal("4", row["rates_used"]);
            Assert.InRange(double.Parse(row["d_cm2_s"], CultureInfo.InvariantCulture) / scan.TrueD[0], 0.9, 1.1);
            // An aborted scan: only the measured pixel has a row; the maps show the rest as no data.
            Assert.Single(ReadCsv(Path.Combine(dir, "diffusion_map.csv")));
        }
        finally
        {
            await DiffusionHosts.StopAsync(host);
        }
        Directory.Delete(dir, recursive: true);
    }
}
