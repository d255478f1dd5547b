using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using PureHDF;
using Seccm.TestSupport;

namespace Seccm.Diffusion.Tests.Pixels;

/// <summary>
/// A pixel measured again after a broker crash (the scan's PixelDisturbed retry) is a second take of the same (scan,
/// pixel, rate, chunk) keys: the diffusion must analyse the last complete take only and say which take it used.
/// </summary>
public sealed class RetakeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>The chunk as the potentiostat publishes it, with its take (written into the JSON, as a peer would).</summary>
    private static byte[] Json(CurveChunk chunk, int take)
    {
        var node = JsonNode.Parse(SeccmJson.Serialize(chunk))!.AsObject();
        node["take"] = take;
        return System.Text.Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    [Fact]
    public async Task A_pixel_measured_twice_is_analysed_from_its_last_take_and_the_result_the_csv_and_the_hdf5_say_which()
    {
        var dir = Directory.CreateTempSubdirectory("seccm-retake-").FullName;
        var port = FreePort.Next();
        var (host, _) = await DiffusionHosts.StartAsync(port, dir, null, embeddedBroker: true);
        var scan = new SimulatedScan("scan-retake", 2);
        await using var client = await DiffusionHosts.ClientAsync(port);
        try
        {
            var results = new ConcurrentDictionary<int, JsonElement>();
            await client.SubscribeAsync(DiffusionTopics.PixelResultTopic(DiffusionHosts.Instrument, scan.ScanId), (m, _) =>
            {
                using var doc = JsonDocument.Parse(m.Payload);
                results[doc.RootElement.GetProperty("index").GetInt32()] = doc.RootElement.Clone();
                return Task.CompletedTask;
            });
            var exported = new TaskCompletionSource<DiffusionExportedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            await client.SubscribeAsync(DiffusionTopics.ExportedTopic(DiffusionHosts.Instrument), (m, _) =>
            {
                exported.TrySetResult(SeccmJson.Deserialize<DiffusionExportedEvent>(m.Payload.Span, m.Topic));
                return Task.CompletedTask;
            });
            await client.PublishAsync(DiffusionHosts.ScanEvent("started"), scan.Started, retain: true);
            const int retaken = 1;
            var topic = PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scan.ScanId);
            for (var p = 0; p < scan.Pixels; p++)
            {
                if (p == retaken)
                {
                    // The first take, complete, but measured while the broker went down: its currents are a quarter of the
                    // truth (a disturbed measurement, D 16 times too small). Then the pixel is measured again.
                    foreach (var c in scan.ChunksOf(p))
                    {
                        await client.PublishRawAsync(topic, Json(c with { CurrentA = [.. c.CurrentA.Select(i => i / 4)] }, take: 0));
                    }
                }
                foreach (var c in scan.ChunksOf(p))
                {
                    await client.PublishRawAsync(topic, Json(c, take: p == retaken ? 1 : 0));
                }
                // The scan says which take counts (the potentiostat's reply to the measurement that was not disturbed).
                var done = JsonNode.Parse(SeccmJson.Serialize(scan.DoneEvent(p)))!.AsObject();
                done["take"] = p == retaken ? 1 : 0;
                await client.PublishRawAsync(DiffusionHosts.ScanEvent("pixel"), System.Text.Encoding.UTF8.GetBytes(done.ToJsonString()));
            }
            await client.PublishAsync(DiffusionHosts.ScanEvent("finished"),
                new ScanFinishedEvent(scan.ScanId, ScanState.Completed, scan.Pixels, scan.Pixels, DateTimeOffset.UnixEpoch.AddHours(1)));
            var files = await exported.Task.WaitAsync(Timeout);

            var result = results[retaken];
            Assert.InRange(result.GetProperty("dCm2PerS").GetDouble() / scan.TrueD[retaken], 0.95, 1.05);
            Assert.Equal(1, result.GetProperty("take").GetInt32());
            Assert.Equal(0, results[0].GetProperty("take").GetInt32());
            var row = DiffusionServiceTests.ReadCsv(Path.Combine(files.Directory, "diffusion_map.csv")).Single(r => r["pixel"] == "1");
            Assert.Equal("1", row["take"]);
            Assert.InRange(double.Parse(row["d_cm2_s"], CultureInfo.InvariantCulture) / scan.TrueD[retaken], 0.95, 1.05);
            using var h5 = H5File.OpenRead(Path.Combine(files.Directory, "scan.h5"));
            var takes = h5.Dataset("pixels/take").Read<int[]>();
            var pixels = h5.Dataset("pixels/pixel").Read<int[]>();
            Assert.Equal(1, takes[Array.IndexOf(pixels, retaken)]);
        }
        finally
        {
            await DiffusionHosts.StopAsync(host);
            Directory.Delete(dir, recursive: true);
        }
    }
}
