using System.Diagnostics;
using Seccm.Contracts.Topics;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Integration.Tests.Faults;

/// <summary>
/// The diffusion worker SIGKILLed in the middle of a scan and started again (same client id, so its persistent session
/// redelivers what it had not acknowledged): the exported map has every pixel once and influxd one pixel_result point per pixel.
/// </summary>
public sealed class DiffusionKillTests(ITestOutputHelper output)
{
    private const int Side = 4;
    private const int Pixels = Side * Side;

    [Fact]
    public async Task The_diffusion_worker_killed_mid_scan_and_restarted_exports_every_pixel_once()
    {
        await using var rig = await ScanRig.CreateAsync(output, "fkdi" + Environment.ProcessId);
        rig.StartAll();
        await rig.WaitAllOnlineAsync();
        var scanId = await rig.StartScanAsync(ScanRig.SmallRecipe(Side), "kill-diffusion");
        await rig.WaitPixelsDoneAsync(scanId, 5);
        // Some results out before the kill (the first analysis warms up for seconds): those the restarted worker must take
        // from the broker's retained copies, as their done events were acknowledged.
        await Eventually.TrueAsync(() => rig.PixelResults.Any(r => r.ScanId == scanId && r.Index >= 2), "three pixel results before the kill",
            TimeSpan.FromMinutes(2));

        rig.Process(ServiceNames.Diffusion).Kill();
        var killedAt = rig.Progress?.PixelsDone;
        var resultsBefore = rig.PixelResults.Where(r => r.ScanId == scanId).Select(r => r.Index).Distinct().Count();
        output.WriteLine($"[{rig.Elapsed.TotalSeconds:0.0} s] diffusion SIGKILLed at {killedAt} pixels done, {resultsBefore} results published");
        await Eventually.TrueAsync(() => !rig.Online.GetValueOrDefault(ServiceNames.Diffusion), "diffusion offline (last will)", TimeSpan.FromSeconds(30));
        // The scan goes on without it: the potentiostat's chunks and the scan's done events wait in its session.
        await Task.Delay(TimeSpan.FromSeconds(2));

        var restarted = Stopwatch.StartNew();
        rig.StartService(ServiceNames.Diffusion);
        await rig.WaitOnlineAsync(ServiceNames.Diffusion);
        var doneAtRestart = rig.Progress?.PixelsDone ?? 0;
        // Recovered: a result for every pixel done by the time it came back.
        await Eventually.TrueAsync(() => rig.PixelResults.Where(r => r.ScanId == scanId).Select(r => r.Index).Distinct().Count() >= doneAtRestart,
            $"results for the {doneAtRestart} pixels done when diffusion came back; it said: {rig.Tail(ServiceNames.Diffusion)}", TimeSpan.FromMinutes(2));
        var recovery = restarted.Elapsed;

        var numbers = await rig.VerifyNothingLostAsync(scanId, Pixels, $"diffusion SIGKILL at {killedAt} pixels", recovery);
        Assert.Equal(Pixels, numbers.PixelsInMap);

        // After the export the broker keeps no retained result of the scan (a new subscriber would get them at once).
        await Eventually.TrueAsync(() => rig.Tail(ServiceNames.Diffusion).Contains("retained pixel results from the broker", StringComparison.Ordinal),
            $"diffusion clears the retained results; it said: {rig.Tail(ServiceNames.Diffusion)}", TimeSpan.FromSeconds(30));
        var retained = 0;
        await rig.Watcher.SubscribeAsync($"{Topic.Root}/{rig.Instrument}/{ServiceNames.Diffusion}/result/+/pixel/+", (m, _) =>
        {
            if (!m.Payload.IsEmpty)
            {
                Interlocked.Increment(ref retained);
            }
            return Task.CompletedTask;
        });
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(0, retained);
    }
}
