using System.Diagnostics;
using Seccm.Contracts.Topics;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Integration.Tests.Faults;

/// <summary>
/// Infrastructure and service failures in the middle of a scan (mosquitto, influxd and the five services each in its
/// own process): the scan completes and every pixel and every pixel_result point is there exactly once.
/// </summary>
public sealed class OutageTests(ITestOutputHelper output)
{
    private const int Side = 4;
    private const int Pixels = Side * Side;

    [Fact]
    public async Task Broker_killed_and_restarted_mid_scan_loses_and_duplicates_nothing()
    {
        await using var rig = await ScanRig.CreateAsync(output, "fb" + Environment.ProcessId);
        rig.StartAll();
        await rig.WaitAllOnlineAsync();
        var scanId = await rig.StartScanAsync(ScanRig.SmallRecipe(Side), "broker-kill");
        await rig.WaitPixelsDoneAsync(scanId, 5);

        rig.Broker.Kill();
        output.WriteLine($"[{rig.Elapsed.TotalSeconds:0.0} s] broker SIGKILLed at {rig.Progress?.PixelsDone} pixels");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var restarted = Stopwatch.StartNew();
        await rig.Broker.StartAgainAsync();
        var doneBefore = rig.Progress?.PixelsDone ?? 0;
        var resumes = await rig.WaitScanMovesOnAsync(scanId, doneBefore, "the broker restart");
        var recovery = restarted.Elapsed;

        await rig.VerifyNothingLostAsync(scanId, Pixels, $"broker SIGKILL, 3 s down, {resumes} resume(s)", recovery);
    }

    [Fact]
    public async Task Influxd_stopped_mid_scan_gets_every_pixel_result_point_after_it_returns()
    {
        await using var rig = await ScanRig.CreateAsync(output, "fi" + Environment.ProcessId);
        rig.StartAll();
        await rig.WaitAllOnlineAsync();
        var scanId = await rig.StartScanAsync(ScanRig.SmallRecipe(Side), "influx-stop");
        await rig.WaitPixelsDoneAsync(scanId, 4);

        await rig.Influx!.StopAsync();
        var before = rig.Progress?.PixelsDone ?? 0;
        output.WriteLine($"[{rig.Elapsed.TotalSeconds:0.0} s] influxd stopped at {before} pixels");
        await Task.Delay(TimeSpan.FromSeconds(5));
        output.WriteLine($"[{rig.Elapsed.TotalSeconds:0.0} s] influxd down 5 s; the scan went on to {rig.Progress?.PixelsDone} pixels");
        await rig.Influx.StartAsync();
        var back = Stopwatch.StartNew();
        await Eventually.TrueAsync(() => rig.CountPixelResultsAsync(scanId).GetAwaiter().GetResult() >= Math.Min(rig.Progress?.PixelsDone ?? 0, Pixels) - 1,
            "the buffered points reach influxd", TimeSpan.FromMinutes(2));
        var recovery = back.Elapsed;

        await rig.VerifyNothingLostAsync(scanId, Pixels, "influxd stopped 5 s", recovery);
    }

    // The diffusion worker's kill is in DiffusionKillTests (it needs its first results out before the kill).
    public static TheoryData<string> Services => new(ServiceNames.Glovebox, ServiceNames.Stage, ServiceNames.Potentiostat, ServiceNames.Scan);

    [Theory]
    [MemberData(nameof(Services))]
    public async Task A_service_killed_mid_scan_and_restarted_lets_the_scan_complete_with_every_pixel_once(string service)
    {
        await using var rig = await ScanRig.CreateAsync(output, "fk" + service[..2] + Environment.ProcessId);
        rig.StartAll();
        await rig.WaitAllOnlineAsync();
        var scanId = await rig.StartScanAsync(ScanRig.SmallRecipe(Side), "kill-" + service);
        await rig.WaitPixelsDoneAsync(scanId, 5);
        if (service == ServiceNames.Scan)
        {
            await Eventually.TrueAsync(() => rig.PumpOn == false, "the pump is off while the scan runs", TimeSpan.FromSeconds(30));
        }

        rig.Process(service).Kill();
        var killedAt = rig.Progress?.PixelsDone;
        output.WriteLine($"[{rig.Elapsed.TotalSeconds:0.0} s] {service} SIGKILLed at {killedAt} pixels");
        await Eventually.TrueAsync(() => !rig.Online.GetValueOrDefault(service), $"{service} offline (last will)", TimeSpan.FromSeconds(30));
        if (service == ServiceNames.Scan)
        {
            // The scan service does not come back in time: the glovebox must not leave the circulation pump off.
            var offline = Stopwatch.StartNew();
            await Eventually.TrueAsync(() => rig.PumpOn == true, "the pump back on while the scan service is away", TimeSpan.FromSeconds(30));
            output.WriteLine($"pump back on {offline.ElapsedMilliseconds} ms after the scan service was seen offline");
        }
        else
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        var restarted = Stopwatch.StartNew();
        rig.StartService(service);
        await rig.WaitOnlineAsync(service);
        var doneBefore = rig.Progress?.PixelsDone ?? 0;
        var resumes = await rig.WaitScanMovesOnAsync(scanId, doneBefore, $"{service} restarted");
        var recovery = restarted.Elapsed;

        var numbers = await rig.VerifyNothingLostAsync(scanId, Pixels, $"{service} SIGKILL, {resumes} resume(s)", recovery);
        Assert.Equal(Pixels, numbers.PixelsInMap);
    }
}
