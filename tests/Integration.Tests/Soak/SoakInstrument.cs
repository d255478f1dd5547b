using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Integration.Tests.Faults;
using Seccm.Scan.Recipes;
using Xunit.Abstractions;

namespace Seccm.Integration.Tests.Soak;

/// <summary>One queue sample of one service bus, from <c>telemetry/queues</c> (see seccm-services/Hosting/QueueTelemetry.cs).</summary>
internal sealed record QueueSample(double AtS, string Service, int Outgoing, int Parked, int ReceivedBacklog, int SinkPending, int SinkSegments,
    long GcCommittedBytes);

/// <summary>
/// One <c>seccm all</c> instrument of the soak: keeps it scanning (a new scan as soon as one finishes) and records its
/// scans, exports and queue telemetry on the rig's watcher.
/// </summary>
internal sealed partial class SoakInstrument(ScanRig rig, ITestOutputHelper output, Stopwatch clock)
{
    public ScanRig Rig { get; } = rig;
    public List<string> ScansStarted { get; } = [];
    public ConcurrentQueue<(double AtS, DiffusionExportedEvent Event)> Exports { get; } = new();
    public ConcurrentQueue<QueueSample> Queues { get; } = new();

    public string Instrument => Rig.Instrument;

    public async Task SubscribeAsync()
    {
        await Rig.Watcher.SubscribeAsync(DiffusionTopics.ExportedTopic(Instrument), (m, _) =>
        {
            Exports.Enqueue((clock.Elapsed.TotalSeconds, SeccmJson.Deserialize<DiffusionExportedEvent>(m.Payload.Span, m.Topic)));
            return Task.CompletedTask;
        });
        await Rig.Watcher.SubscribeAsync($"{Topic.Root}/{Instrument}/+/telemetry/queues", (m, _) =>
        {
            using var doc = JsonDocument.Parse(m.Payload);
            var r = doc.RootElement;
            long Long(string name) => r.TryGetProperty(name, out var v) ? v.GetInt64() : 0;
            int Int(string name) => (int)Long(name);
            Queues.Enqueue(new QueueSample(clock.Elapsed.TotalSeconds, r.GetProperty("service").GetString() ?? "?",
                Int("outgoingMessages"), Int("parkedMessages"), Int("receivedBacklog"), Int("sinkPendingPoints"), Int("sinkBufferedSegments"),
                Long("gcCommittedBytes")));
            return Task.CompletedTask;
        });
    }

    /// <summary>Starts scan after scan until <paramref name="stop"/>; the scan running then is left to run on.</summary>
    public async Task KeepScanningAsync(Recipe recipe, CancellationToken stop)
    {
        for (var k = 1; !stop.IsCancellationRequested; k++)
        {
            var id = string.Create(CultureInfo.InvariantCulture, $"soak-{k:000}");
            await Rig.StartScanAsync(recipe, id);
            lock (ScansStarted)
            {
                ScansStarted.Add(id);
            }
            var lastDone = -1;
            var lastMove = Stopwatch.StartNew();
            while (!Rig.Finished.Any(f => f.ScanId == id))
            {
                if (stop.IsCancellationRequested)
                {
                    return;
                }
                var done = Rig.Progress is { } p && p.ScanId == id ? p.PixelsDone : -1;
                if (done != lastDone)
                {
                    lastDone = done;
                    lastMove.Restart();
                }
                // A hang guard: a scan that stops moving for minutes is a failure, not a slow machine.
                Assert.True(lastMove.Elapsed < TimeSpan.FromMinutes(2),
                    $"{Instrument}: scan {id} stuck at {lastDone} pixels (progress {Rig.Progress}); {Rig.AllOutput()}");
                await Task.Delay(100, CancellationToken.None);
            }
            output.WriteLine($"[{clock.Elapsed.TotalSeconds:0.0} s] {Instrument}: {id} finished");
        }
    }

    public IReadOnlyList<string> Started()
    {
        lock (ScansStarted)
        {
            return ScansStarted.ToArray();
        }
    }

    /// <summary>(scan id, pixel) of every <c>pixel_result</c> line in the instrument's line-protocol files.</summary>
    public List<(string ScanId, int Pixel)> StoredPixelResults()
    {
        var root = Path.Combine(Rig.Directory, "timeseries-all");
        var found = new List<(string, int)>();
        if (!Directory.Exists(root))
        {
            return found;
        }
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                if (!line.StartsWith("pixel_result,", StringComparison.Ordinal))
                {
                    continue;
                }
                var scan = ScanTag().Match(line);
                var pixel = PixelField().Match(line);
                Assert.True(scan.Success && pixel.Success, $"{file}: a pixel_result line without scan_id or pixel: {line}");
                found.Add((scan.Groups[1].Value, int.Parse(pixel.Groups[1].Value, CultureInfo.InvariantCulture)));
            }
        }
        return found;
    }

    [GeneratedRegex(@"^pixel_result,\S*?\bscan_id=([^,\s]+)")]
    private static partial Regex ScanTag();

    [GeneratedRegex(@"[ ,]pixel=(\d+)i")]
    private static partial Regex PixelField();
}
