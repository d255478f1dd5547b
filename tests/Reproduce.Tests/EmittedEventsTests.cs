using System.Collections.Concurrent;
using Seccm.Contracts.Glovebox;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Scan.Recipes;
using Seccm.TestSupport;

namespace Seccm.Host.Reproduce.Tests;

public class EmittedEventsTests
{
    /// <summary>
    /// Every status, telemetry, event, data and result message the five services send during a short simulated scan
    /// (through the real message path) passes the contract its receivers check it with.
    /// </summary>
    [Fact]
    public async Task Every_message_the_services_send_during_a_scan_passes_its_receivers_contract()
    {
        using var temp = new TempDir();
        var recipe = RecipeLoader.LoadBuiltIn("lfp-map") with { Grid = new GridSpec(2, 2, 1.2), Origin = new PointSpec(6.9, 6.9) };
        var messages = new ConcurrentQueue<(string Topic, byte[] Payload)>();
        LabScan scan;
        await using (var lab = await SimulatedLab.StartAsync(temp.Path, "lfp", 1, 55, CancellationToken.None))
        {
            await lab.Bus.SubscribeAsync($"{Topic.Root}/{lab.Bus.Instrument}/#", (m, _) =>
            {
                messages.Enqueue((m.Topic, m.Payload.ToArray()));
                return Task.CompletedTask;
            });
            scan = await lab.RunAsync(recipe, waitForExport: true, CancellationToken.None);
            // The glovebox reports every second whatever the scan does, and a 2 x 2 scan can end before its first report.
            var atmosphere = GloveboxTopics.AtmosphereTopic(lab.Bus.Instrument);
            await Eventually.TrueAsync(() => messages.Any(m => m.Topic == atmosphere), "a glovebox telemetry message", TimeSpan.FromMinutes(2));
        }
        Assert.Equal(ScanState.Completed, scan.State);

        var problems = new List<string>();
        var checkedPerKind = new Dictionary<string, int>();
        foreach (var (topic, payload) in messages)
        {
            try
            {
                if (TopicContracts.Read(topic, payload) is { } read)
                {
                    checkedPerKind[read.GetType().Name] = checkedPerKind.GetValueOrDefault(read.GetType().Name) + 1;
                }
            }
            catch (PayloadException ex)
            {
                problems.Add(ex.Message);
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Distinct().Take(20)));
        // The scan's whole path was heard: its events, the curves, the stage, the results and the export.
        foreach (var kind in new[] { "ScanStartedEvent", "PixelDoneEvent", "ScanFinishedEvent", "CurveChunk", "StagePositionTelemetry",
                     "ApproachStoppedEvent", "ContactEvent", "PixelResultMessage", "DiffusionExportedEvent", "ServiceStatus", "GloveboxTelemetry" })
        {
            Assert.True(checkedPerKind.ContainsKey(kind), $"no {kind} among {string.Join(", ", checkedPerKind.Keys)}");
        }
        Assert.Equal(4, checkedPerKind["PixelDoneEvent"]);
    }
}
