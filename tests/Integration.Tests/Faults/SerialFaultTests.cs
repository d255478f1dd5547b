using System.Diagnostics;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Topics;
using Seccm.Electrochemistry.Samples;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Integration.Tests.Faults;

/// <summary>
/// A serial device that stops answering or sends garbage in the middle of a scan: the stage service runs the real PI
/// GCS driver over a socat pair to the controller emulator (the rest as in <see cref="ScanRig"/>: mosquitto, influxd,
/// five seccm processes). The scan completes with every pixel and every pixel_result point exactly once. One scan runs
/// the real MethodSCRIPT potentiostat driver as well, against the EmStat emulator (<see cref="SerialFaultPotentiostat"/>).
/// </summary>
public sealed class SerialFaultTests(ITestOutputHelper output)
{
    private const int Side = 4;
    private const int Pixels = Side * Side;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stage_controller_that_stops_answering_mid_scan_pauses_the_scan_which_completes_after_it_answers_again(bool duringApproach)
    {
        await using var rig = await ScanRig.CreateAsync(output, "ss" + (duringApproach ? "a" : "m") + Environment.ProcessId);
        await using var stage = await SerialFaultStage.StartAsync(rig);
        rig.StartAll(stage.StageEnvironment);
        await rig.WaitAllOnlineAsync();
        // Multi-cycle CVs: the real drivers must carry a scan of several cycles per rate end to end.
        var recipe = ScanRig.MultiCycleRecipe(Side, 2);
        var scanId = await rig.StartScanAsync(recipe, "serial-silent-" + (duringApproach ? "approach" : "any"));
        await rig.WaitPixelsDoneAsync(scanId, 4);

        if (duringApproach)
        {
            // The approach's continuous move down is under way: the controller goes on moving but says nothing.
            var approachVelocity = FormattableString.Invariant($"VEL 3 {recipe.Approach!.SpeedUmPerS}");
            var seen = stage.Emulator.ReceivedCommands.Count;
            var waiting = Stopwatch.StartNew();
            while (!ApproachMoveSent(stage.Emulator.ReceivedCommands.Skip(seen).ToList(), approachVelocity))
            {
                Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(30), $"no approach move reached the PI controller; stage said: {rig.Tail(ServiceNames.Stage)}");
                await Task.Delay(1);
            }
        }
        stage.Emulator.Silent = true;
        var silentAt = rig.Elapsed;
        output.WriteLine($"[{silentAt.TotalSeconds:0.0} s] PI controller silent at {rig.Progress?.PixelsDone} pixels");
        await Eventually.TrueAsync(() => stage.DeviceFault == true, $"the stage reports a device fault; it said: {rig.Tail(ServiceNames.Stage)}",
            TimeSpan.FromSeconds(30));
        output.WriteLine($"[{rig.Elapsed.TotalSeconds:0.0} s] stage status: {stage.FaultReports.Last().Message}");
        await Eventually.TrueAsync(() => rig.Progress is { State: ScanState.Paused },
            $"the scan pauses while the stage does not answer (progress {rig.Progress}); scan said: {rig.Tail(ServiceNames.Scan)}", TimeSpan.FromSeconds(60));
        var pausedAt = rig.Progress!.PixelsDone;
        output.WriteLine($"[{rig.Elapsed.TotalSeconds:0.0} s] paused at {pausedAt} pixels: {rig.Progress.PauseReason}");
        // A resume while the device is still silent fails the pixel again and pauses again; it records nothing.
        await Eventually.TrueAsync(() => rig.Progress is { State: ScanState.Paused }, "paused", TimeSpan.FromSeconds(30));
        await rig.Watcher.CallAsync<EmptyCommand, ScanStatusResult>(ServiceNames.Scan, "resume", new EmptyCommand(), TimeSpan.FromSeconds(15),
            CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.Equal(pausedAt, rig.Progress!.PixelsDone);
        output.WriteLine($"[{rig.Elapsed.TotalSeconds:0.0} s] after a resume while silent: {rig.Progress.State}, {rig.Progress.PixelsDone} pixels");

        stage.Emulator.Silent = false;
        var back = Stopwatch.StartNew();
        var silentFor = rig.Elapsed - silentAt;
        output.WriteLine($"[{rig.Elapsed.TotalSeconds:0.0} s] PI controller answers again after {silentFor.TotalSeconds:0.0} s");
        await Eventually.TrueAsync(() => stage.DeviceFault == false, "the stage clears its device fault", TimeSpan.FromSeconds(30));
        var resumes = await rig.WaitScanMovesOnAsync(scanId, pausedAt, "the PI controller answers again");
        var recovery = back.Elapsed;

        var numbers = await rig.VerifyNothingLostAsync(scanId, Pixels, $"PI controller silent {silentFor.TotalSeconds:0} s{(duringApproach ? " from an approach on" : "")}, {resumes} resume(s)", recovery);
        AssertEachPixelEventOnce(rig, scanId);
        Assert.Equal(Pixels, numbers.PixelsInMap);
    }

    [Theory]
    [InlineData(3, false)]
    [InlineData(1, true)]
    public async Task Stage_controller_sending_garbage_mid_scan_is_retried_or_paused_and_the_scan_completes(int everyNth, bool expectPause)
    {
        await using var rig = await ScanRig.CreateAsync(output, "sg" + everyNth + Environment.ProcessId);
        await using var stage = await SerialFaultStage.StartAsync(rig);
        rig.StartAll(stage.StageEnvironment);
        await rig.WaitAllOnlineAsync();
        var scanId = await rig.StartScanAsync(ScanRig.MultiCycleRecipe(Side, 2), "serial-garbage-" + everyNth);
        await rig.WaitPixelsDoneAsync(scanId, 4);

        var garbage = TimeSpan.FromSeconds(4);
        stage.Emulator.GarbleAnswersFor(garbage, everyNth);
        var before = rig.Progress!.PixelsDone;
        output.WriteLine($"[{rig.Elapsed.TotalSeconds:0.0} s] every {everyNth}. answer garbage for {garbage.TotalSeconds} s, at {before} pixels");
        await Task.Delay(garbage);
        var end = Stopwatch.StartNew();
        output.WriteLine($"[{rig.Elapsed.TotalSeconds:0.0} s] garbage over: {stage.Emulator.GarbledAnswers} answers garbled, {rig.Progress?.PixelsDone} pixels, {rig.Progress?.State}");
        Assert.True(stage.Emulator.GarbledAnswers > 0, "the emulator garbled no answer: the scan was not talking to the stage");

        var resumes = await rig.WaitScanMovesOnAsync(scanId, rig.Progress!.PixelsDone, "the garbage ended");
        var recovery = end.Elapsed;
        var numbers = await rig.VerifyNothingLostAsync(scanId, Pixels,
            $"PI controller: every {everyNth}. answer garbage for {garbage.TotalSeconds} s ({stage.Emulator.GarbledAnswers} garbled), {resumes} resume(s)", recovery);
        AssertEachPixelEventOnce(rig, scanId);
        Assert.Equal(Pixels, numbers.PixelsInMap);
        var paused = rig.StateEvents.Any(e => e.ScanId == scanId && e.State == ScanState.Paused);
        if (expectPause)
        {
            // Nothing but garbage for seconds: the driver's retries run out, the stage says so, the pixel is paused.
            Assert.True(paused, "the scan paused while the stage answered only garbage");
            Assert.Contains(stage.FaultReports, r => r.Fault);
        }
        else
        {
            // One answer in three garbled: every retry gets a good answer, so the scan never notices. The atmosphere may
            // still pause it: a scan slowed down by a loaded machine keeps the pump off longer, the simulated O2 rises
            // past the recipe's limit (seen at load average ~100), and that pause is the interlock doing its job.
            var stagePauses = rig.StateEvents.Where(e => e.ScanId == scanId && e.State == ScanState.Paused
                && !e.Reason.StartsWith("interlock: O2 ", StringComparison.Ordinal) && !e.Reason.StartsWith("interlock: H2O ", StringComparison.Ordinal));
            Assert.False(stagePauses.Any(), $"the scan paused although retries should absorb one garbled answer in {everyNth}: "
                + string.Join("; ", rig.StateEvents.Select(e => $"{e.State} {e.Reason}")));
        }
    }

    [Fact]
    public async Task A_whole_scan_of_multi_cycle_cvs_runs_on_the_real_stage_and_potentiostat_drivers_over_serial()
    {
        await using var rig = await ScanRig.CreateAsync(output, "sp" + Environment.ProcessId);
        await using var stage = await SerialFaultStage.StartAsync(rig);
        await using var potentiostat = await SerialFaultPotentiostat.StartAsync(stage.Emulator);
        rig.StartAll(stage.StageEnvironment, potentiostat.PotentiostatEnvironment);
        await rig.WaitAllOnlineAsync();
        var recipe = ScanRig.MultiCycleRecipe(Side, 2);
        var started = rig.Elapsed;
        var scanId = await rig.StartScanAsync(recipe, "serial-both-drivers");
        // The emulated EmStat runs in real time: five rates of two cycles and an approach per pixel, on a loaded machine.
        var finished = await rig.WaitFinishedAsync(scanId, TimeSpan.FromMinutes(15));
        var scanTime = rig.Elapsed - started;

        var numbers = await rig.VerifyNothingLostAsync(scanId, Pixels, "none: PI GCS and MethodSCRIPT drivers over serial, 2-cycle CVs", null);
        AssertEachPixelEventOnce(rig, scanId);
        Assert.Equal(Pixels, numbers.PixelsInMap);
        // Each pixel: an approach hold that saw the meniscus touch down, then one CV script of five nscans(2) loops.
        var cv = potentiostat.Emulator.LastScript.Where(l => l.StartsWith("meas_loop_cv", StringComparison.Ordinal)).ToList();
        Assert.Equal(recipe.Technique!.Cv!.ScanRatesVPerS.Count, cv.Count);
        Assert.All(cv, l => Assert.EndsWith("nscans(2)", l, StringComparison.Ordinal));
        Assert.True(potentiostat.Emulator.ScriptsFinished >= 2 * Pixels, $"{potentiostat.Emulator.ScriptsFinished} scripts ran on the EmStat for {Pixels} pixels");
        var results = rig.PixelResults.Where(r => r.ScanId == scanId).GroupBy(r => r.Index).Select(g => g.Last()).OrderBy(r => r.Index).ToList();
        output.WriteLine(FormattableString.Invariant($"scan {scanTime.TotalSeconds:0.0} s ({finished.State}), {results.Count(r => r.Contact)} of {Pixels} pixels with contact, D (cm^2/s): ")
            + string.Join(", ", results.Select(r => FormattableString.Invariant($"{r.Index}: {r.DCm2PerS:0.00E+0} [{r.Flags}]"))));
        // The film's own D under each pixel (the sample's grain there) is the truth the emulated cell was made from.
        var sample = SampleCatalog.Create("lto");
        Assert.All(results, r =>
        {
            Assert.True(r.Contact, $"pixel {r.Index}: no contact in its result");
            var truth = sample.ElectrodeAt(r.XUm, r.YUm, new PipetteSettings()).Couples[0].DCm2PerS;
            Assert.True(r.DCm2PerS is { } d && Math.Abs(d - truth) < 0.3 * truth,
                $"pixel {r.Index}: D {r.DCm2PerS} cm^2/s, the film's {truth} ({r.Flags}, {r.RatesUsed} rates used)");
        });
    }

    private static bool ApproachMoveSent(List<string> commands, string approachVelocity)
    {
        // The approach's velocity, its move down, then its ERR? and a position reading: the move is under way.
        var velocity = commands.FindLastIndex(c => c == approachVelocity);
        var move = velocity < 0 ? -1 : commands.FindIndex(velocity, c => c.StartsWith("MOV 3 ", StringComparison.Ordinal));
        return move >= 0 && commands.Skip(move).Any(c => c.StartsWith("POS?", StringComparison.Ordinal));
    }

    private void AssertEachPixelEventOnce(ScanRig rig, string scanId)
    {
        foreach (var line in rig.Process(ServiceNames.Stage).Output.Split('\n').Where(l => l.Contains("Approach ended", StringComparison.Ordinal)))
        {
            output.WriteLine("stage: " + line.Trim());
        }
        var events = rig.PixelEvents.Where(e => e.ScanId == scanId).ToList();
        output.WriteLine("pixels (index: contact z um): " + string.Join(", ",
            events.Select(e => FormattableString.Invariant($"{e.Index}: {(e.Contact ? $"{e.ContactZUm:0.000}" : "none")}"))));
        // Every pixel of the LTO film touches; a pixel retried after a fault must not be recorded without contact
        // because the stage was left somewhere odd.
        var noContact = events.Where(e => !e.Contact).Select(e => e.Index).ToList();
        Assert.True(noContact.Count == 0, $"pixels recorded without contact: {string.Join(", ", noContact)}; scan said: {rig.Tail(ServiceNames.Scan)}");
        var twice = events.GroupBy(e => e.Index).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"pixel done twice: {string.Join(", ", twice)}");
        Assert.Equal(Enumerable.Range(0, Pixels), events.Select(e => e.Index).Order());
    }
}
