using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Scan;
using Seccm.Messaging.Commands;
using Seccm.Scan.Checkpoints;
using Seccm.Scan.Orchestration;
using Seccm.TestSupport;

namespace Seccm.Scan.Tests.Orchestration;

public sealed class ScanRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("seccm-scan-").FullName;
    private readonly RecordingInstrument _instrument = new();
    private readonly SwitchableInterlocks _interlocks = new();
    private readonly RecordingEvents _events = new();

    private static Recipe Grid(int nx, int ny, bool autoResume = true) => new(
        "test", new GridSpec(nx, ny, 0.1),
        Technique: new TechniqueSpec(TechniqueKind.Hold, Hold: new HoldSpec(1.3, 0.01)),
        AutoResume: autoResume);

    private ScanRunner NewRunner() =>
        new(_instrument, _interlocks, _events, new CheckpointStore(_dir), TimeProvider.System, NullLogger<ScanRunner>.Instance);

    [Fact]
    public async Task Every_pixel_is_measured_once_and_the_pump_is_off_while_imaging_and_on_at_the_end()
    {
        var runner = NewRunner();
        await runner.StartAsync(Grid(4, 3), "s1", CancellationToken.None);
        await runner.Loop!;

        Assert.Equal(Enumerable.Range(0, 12), _instrument.Measured.Order());
        Assert.False(_instrument.Pump.First().On);
        Assert.True(_instrument.PumpOn);
        Assert.Equal(ScanState.Completed, runner.Progress!.State);
        Assert.Equal(12, runner.Progress.PixelsDone);
        Assert.Single(_events.Finished);
        Assert.Null(new CheckpointStore(_dir).LoadActive());
        Assert.True(File.Exists(Path.Combine(_dir, "finished", "s1.json")));
    }

    [Fact]
    public async Task A_pixel_without_contact_is_recorded_as_such_and_the_scan_goes_on()
    {
        _instrument.NoContactPixels.Add(2);
        var runner = NewRunner();
        await runner.StartAsync(Grid(2, 2), "s2", CancellationToken.None);
        await runner.Loop!;

        Assert.DoesNotContain(2, _instrument.Measured);
        Assert.Equal(4, runner.Progress!.PixelsDone);
        Assert.Equal(1, runner.Progress.PixelsWithoutContact);
        var pixel2 = _events.Pixels.Single(p => p.Index == 2);
        Assert.False(pixel2.Contact);
        Assert.Null(pixel2.ContactZUm);
        Assert.Equal(0.01, _events.Pixels.Single(p => p.Index == 1).ContactZUm);
    }

    /// <summary>Pins the recipe's choice for a curve the device flagged (overload, underload, NaN; a timing error alone is not).</summary>
    [Theory]
    [InlineData(InvalidSampleAction.Flag, 2, new[] { "overload" }, 1, null)]
    [InlineData(InvalidSampleAction.Remeasure, 2, new[] { "overload", "nan" }, 3, null)]
    [InlineData(InvalidSampleAction.Remeasure, 1, new[] { "overload", "overload", "overload" }, 2, null)]
    [InlineData(InvalidSampleAction.Remeasure, 2, new[] { "timing-error" }, 1, null)]
    [InlineData(InvalidSampleAction.Skip, 2, new[] { "underload|timing-error" }, 1, "underload")]
    public async Task A_pixel_whose_curve_the_device_flagged_is_kept_measured_again_or_skipped_as_the_recipe_says(
        InvalidSampleAction action, int maxRemeasures, string[] flagsPerMeasurement, int measurements, string? skipped)
    {
        _instrument.SampleFlags[1] = new(flagsPerMeasurement);
        var recipe = Grid(2, 1) with
        {
            Technique = new TechniqueSpec(TechniqueKind.Hold, Hold: new HoldSpec(1.3, 0.01), OnInvalidSamples: action, MaxRemeasures: maxRemeasures),
        };
        var runner = NewRunner();
        await runner.StartAsync(recipe, "s-flags", CancellationToken.None);
        await runner.Loop!;

        Assert.Equal(measurements, _instrument.Measured.Count(p => p == 1));
        Assert.Equal(1, _instrument.Measured.Count(p => p == 0));
        Assert.Equal(skipped, _events.Pixels.Single(p => p.Index == 1).Skipped);
        Assert.Null(_events.Pixels.Single(p => p.Index == 0).Skipped);
        Assert.Equal(ScanState.Completed, runner.Progress!.State);
    }

    [Fact]
    public async Task A_start_is_refused_while_an_interlock_holds()
    {
        _interlocks.Trip = "glovebox offline";
        var ex = await Assert.ThrowsAsync<CommandException>(() => NewRunner().StartAsync(Grid(2, 2), "s3", CancellationToken.None));
        Assert.Contains("glovebox offline", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_instrument.Pump);
    }

    [Fact]
    public async Task An_interlock_trip_pauses_with_the_pump_on_and_the_scan_resumes_when_it_clears()
    {
        var tripped = new TaskCompletionSource();
        _instrument.BeforeMeasure = (index, _) =>
        {
            if (index == 3 && _interlocks.Trip is null && !tripped.Task.IsCompleted)
            {
                _interlocks.Trip = "O2 alarm";
                tripped.SetResult();
            }
            return Task.CompletedTask;
        };
        var runner = NewRunner();
        await runner.StartAsync(Grid(3, 3), "s4", CancellationToken.None);
        await tripped.Task;
        await Eventually.TrueAsync(() => runner.Progress!.State == ScanState.Paused, "paused on the interlock");
        Assert.Contains("O2 alarm", runner.Progress!.PauseReason, StringComparison.Ordinal);
        // The pause is announced first, then the pump is switched on.
        await Eventually.TrueAsync(() => _instrument.PumpOn, "the pump on while paused");
        var measuredWhilePaused = _instrument.Measured.Count;

        _interlocks.Trip = null;
        await runner.Loop!;
        Assert.Equal(4, measuredWhilePaused);
        Assert.Equal(Enumerable.Range(0, 9), _instrument.Measured.Order());
        Assert.Contains(_events.States, s => s.State == ScanState.Running);
        Assert.True(_instrument.PumpOn);
    }

    [Fact]
    public async Task Without_auto_resume_a_cleared_interlock_waits_for_the_resume_command()
    {
        _interlocks.Trip = null;
        var gate = new TaskCompletionSource();
        _instrument.BeforeMeasure = async (index, ct) =>
        {
            if (index == 1)
            {
                _interlocks.Trip = "H2O alarm";
                gate.TrySetResult();
            }
            await Task.CompletedTask;
        };
        var runner = NewRunner();
        await runner.StartAsync(Grid(2, 2, autoResume: false), "s5", CancellationToken.None);
        await gate.Task;
        await Eventually.TrueAsync(() => runner.Progress!.State == ScanState.Paused, "paused");
        _interlocks.Trip = null;
        await Eventually.TrueAsync(() => runner.Progress!.PauseReason?.Contains("waiting for resume", StringComparison.Ordinal) == true,
            "waiting for the resume command");
        Assert.Equal(2, _instrument.Measured.Count);

        runner.Resume();
        await runner.Loop!;
        Assert.Equal(4, _instrument.Measured.Count);
    }

    [Fact]
    public async Task Pause_and_resume_by_command()
    {
        var atPixel2 = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        _instrument.BeforeMeasure = async (index, ct) =>
        {
            if (index == 2)
            {
                atPixel2.TrySetResult();
                await release.Task;
            }
        };
        var runner = NewRunner();
        await runner.StartAsync(Grid(3, 2), "s6", CancellationToken.None);
        await atPixel2.Task;
        Assert.Equal(ScanState.Pausing, runner.Pause("operator").State);
        release.SetResult();
        await Eventually.TrueAsync(() => runner.Progress!.State == ScanState.Paused, "paused at the safe point");
        Assert.Equal(3, _instrument.Measured.Count);

        runner.Resume();
        await runner.Loop!;
        Assert.Equal(6, _instrument.Measured.Count);
    }

    [Fact]
    public async Task Abort_retracts_turns_the_pump_on_and_ends_the_scan()
    {
        var atPixel1 = new TaskCompletionSource();
        _instrument.BeforeMeasure = async (index, ct) =>
        {
            if (index == 1)
            {
                atPixel1.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            }
        };
        var runner = NewRunner();
        await runner.StartAsync(Grid(3, 3), "s7", CancellationToken.None);
        await atPixel1.Task;
        var progress = await runner.AbortAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ScanState.Aborted, progress.State);
        Assert.True(_instrument.PumpOn);
        Assert.Equal(ScanState.Aborted, _events.Finished.Single().State);
    }

    [Fact]
    public async Task A_pixel_that_fails_mid_way_is_measured_again_after_resume_and_recorded_once()
    {
        _instrument.FailOnce[2] = true;
        var runner = NewRunner();
        await runner.StartAsync(Grid(2, 2), "s8", CancellationToken.None);
        await Eventually.TrueAsync(() => runner.Progress!.State == ScanState.Paused, "paused after the failure");
        Assert.Contains("pixel 2 failed", runner.Progress!.PauseReason, StringComparison.Ordinal);
        runner.Resume();
        await runner.Loop!;
        Assert.Equal(new[] { 0, 1, 2, 3 }, _instrument.Measured.Order());
        Assert.Equal(4, _events.Pixels.Select(p => p.Index).Distinct().Count());
        Assert.Equal(4, _events.Pixels.Count);
    }

    [Fact]
    public async Task A_pixel_whose_target_went_offline_and_is_back_already_is_measured_again_without_a_pause()
    {
        // A broker connection blip of the stage under load: its will (offline) fails the pending move at once, and by the
        // time the scan looks at its interlocks the stage is online again. The scan measures the pixel again by itself.
        _instrument.OfflineOnce[2] = true;
        var runner = NewRunner();
        await runner.StartAsync(Grid(2, 2), "s8o", CancellationToken.None);
        // A scan that pauses instead would wait for an operator for ever: the first of the two events decides.
        var first = await Task.WhenAny(runner.Loop!, _events.FirstPause);
        if (first == _events.FirstPause)
        {
            Assert.Fail($"the scan paused: {(await _events.FirstPause).Reason}");
        }
        await runner.Loop!;
        Assert.Equal(ScanState.Completed, runner.Progress!.State);
        Assert.DoesNotContain(_events.States, s => s.State == ScanState.Paused);
        Assert.Equal(new[] { 0, 1, 2, 3 }, _instrument.Measured.Order());
        Assert.Single(_events.Pixels, p => p.Index == 2);
    }

    [Fact]
    public async Task A_pixel_that_fails_because_a_device_faulted_waits_on_the_interlock_and_resumes_by_itself()
    {
        var cleared = new TaskCompletionSource();
        _instrument.FailOnce[2] = true;
        _instrument.BeforeMeasure = (index, _) =>
        {
            if (index == 2 && !cleared.Task.IsCompleted)
            {
                // The stage's retained status says its controller stopped answering.
                _interlocks.Trip = "stage device fault (no answer)";
            }
            return Task.CompletedTask;
        };
        var runner = NewRunner();
        await runner.StartAsync(Grid(2, 2), "s8d", CancellationToken.None);
        await Eventually.TrueAsync(() => runner.Progress!.State == ScanState.Paused, "paused on the device fault");
        Assert.Contains("stage device fault", runner.Progress!.PauseReason, StringComparison.Ordinal);
        cleared.SetResult();
        _interlocks.Trip = null;
        // No resume command: the recipe resumes automatically when the interlock clears.
        await runner.Loop!;
        Assert.Equal(ScanState.Completed, runner.Progress!.State);
        Assert.Equal(4, _events.Pixels.Count);
        Assert.Single(_events.Pixels, p => p.Index == 2);
    }

    [Fact]
    public async Task A_pixel_retried_after_a_fault_is_approached_only_from_the_start_height_read_back_and_recorded_with_contact()
    {
        // Pixel 2 fails mid-way (the stage controller fell silent; the retract failed too). When it answers again,
        // the move to the start height ends elsewhere: the pipette is still in the sample.
        _instrument.FailOnce[2] = true;
        _instrument.BeforeMeasure = (index, _) =>
        {
            if (index == 2 && _instrument.FailOnce.ContainsKey(2))
            {
                _instrument.MoveEndsAt.Enqueue(-2.5);
            }
            return Task.CompletedTask;
        };
        var runner = NewRunner();
        await runner.StartAsync(Grid(2, 2), "s8h", CancellationToken.None);
        await Eventually.TrueAsync(() => runner.Progress!.PauseReason?.Contains("pixel 2 failed", StringComparison.Ordinal) == true
            && runner.Progress.PauseReason?.Contains("reads back", StringComparison.Ordinal) == false, "paused after the fault");
        runner.Resume();
        await Eventually.TrueAsync(() => runner.Progress!.PauseReason?.Contains("reads back Z = -2.5 um", StringComparison.Ordinal) == true,
            $"paused on the height read back (progress {runner.Progress})");
        runner.Resume();
        await runner.Loop!;

        Assert.Equal(ScanState.Completed, runner.Progress!.State);
        // The first approach of pixel 2 came before the fault; every later one from the start height, read back.
        var afterFault = _instrument.ApproachStarts.Where(a => a.Pixel == 2).Skip(1).ToList();
        Assert.NotEmpty(afterFault);
        Assert.All(afterFault, a => Assert.Equal(new ApproachSpec().StartZUm, a.StartZUm));
        Assert.Equal(4, _events.Pixels.Count);
        Assert.Single(_events.Pixels, p => p.Index == 2);
        Assert.All(_events.Pixels, p => Assert.True(p.Contact, $"pixel {p.Index} recorded without contact"));
        Assert.Equal(new[] { 0, 1, 2, 3 }, _instrument.Measured.Order());
    }

    [Fact]
    public async Task A_pixel_retried_after_a_fault_that_misses_contact_is_approached_once_more_not_recorded_without_contact()
    {
        _instrument.FailOnce[2] = true;
        _instrument.BeforeMeasure = (index, _) =>
        {
            if (index == 2 && _instrument.FailOnce.ContainsKey(2))
            {
                // The first approach after the fault misses the contact (the services are still recovering).
                _instrument.NoContactOnce[2] = true;
            }
            return Task.CompletedTask;
        };
        var runner = NewRunner();
        await runner.StartAsync(Grid(2, 2), "s8c", CancellationToken.None);
        await Eventually.TrueAsync(() => runner.Progress!.State == ScanState.Paused, "paused after the fault");
        runner.Resume();
        await runner.Loop!;

        Assert.Equal(ScanState.Completed, runner.Progress!.State);
        Assert.Equal(new[] { 0, 1, 2, 2, 2, 3 }, _instrument.Approaches.ToArray());
        Assert.Single(_events.Pixels, p => p.Index == 2);
        Assert.All(_events.Pixels, p => Assert.True(p.Contact, $"pixel {p.Index} recorded without contact"));
        Assert.Equal(0, runner.Progress.PixelsWithoutContact);
    }

    [Fact]
    public async Task A_pixel_without_contact_on_a_first_approach_is_still_recorded_as_such()
    {
        _instrument.NoContactOnce[1] = true;
        var runner = NewRunner();
        await runner.StartAsync(Grid(2, 2), "s8n", CancellationToken.None);
        await runner.Loop!;

        Assert.Equal(new[] { 0, 1, 2, 3 }, _instrument.Approaches.ToArray());
        Assert.False(_events.Pixels.Single(p => p.Index == 1).Contact);
    }

    [Fact]
    public async Task A_pixel_whose_approach_lost_the_broker_is_approached_again_not_recorded_without_contact()
    {
        _instrument.LinkDropsDuringApproach[1] = true;
        var runner = NewRunner();
        await runner.StartAsync(Grid(2, 2), "s8b", CancellationToken.None);
        await runner.Loop!;
        Assert.Equal(ScanState.Completed, runner.Progress!.State);
        Assert.Equal(new[] { 0, 1, 1, 2, 3 }, _instrument.Approaches.ToArray());
        Assert.Equal(new[] { 0, 1, 2, 3 }, _instrument.Measured.Order());
        Assert.Equal(4, _events.Pixels.Count);
        Assert.All(_events.Pixels, p => Assert.True(p.Contact, $"pixel {p.Index} recorded without contact"));
        Assert.Equal(0, runner.Progress.PixelsWithoutContact);
    }

    [Fact]
    public async Task A_pixel_disturbed_on_every_attempt_pauses_the_scan_and_is_recorded_once_after_resume()
    {
        _instrument.LinkAlwaysDropsDuringMeasure.Add(2);
        var runner = NewRunner();
        await runner.StartAsync(Grid(2, 2), "s8c", CancellationToken.None);
        await Eventually.TrueAsync(() => runner.Progress!.State == ScanState.Paused, "paused after repeated disturbances");
        Assert.Contains("pixel 2 failed", runner.Progress!.PauseReason, StringComparison.Ordinal);
        // First try plus three retries, none recorded.
        Assert.Equal(4, _instrument.Measured.Count(i => i == 2));
        Assert.DoesNotContain(_events.Pixels, p => p.Index == 2);
        _instrument.LinkAlwaysDropsDuringMeasure.Clear();
        runner.Resume();
        await runner.Loop!;
        Assert.Equal(ScanState.Completed, runner.Progress!.State);
        Assert.Equal(4, _events.Pixels.Count);
        Assert.Single(_events.Pixels, p => p.Index == 2);
    }

    [Fact]
    public async Task A_new_process_continues_from_the_checkpoint_without_repeating_or_skipping_a_pixel()
    {
        var suspendAt = new TaskCompletionSource();
        _instrument.BeforeMeasure = async (index, ct) =>
        {
            if (index == 5)
            {
                suspendAt.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            }
        };
        var first = NewRunner();
        await first.StartAsync(Grid(4, 4), "s9", CancellationToken.None);
        await suspendAt.Task;
        await first.SuspendAsync();
        var measuredByFirst = _instrument.Measured.ToList();
        Assert.Equal(Enumerable.Range(0, 5), measuredByFirst.Order());

        var checkpoint = new CheckpointStore(_dir).LoadActive();
        Assert.NotNull(checkpoint);
        Assert.Equal(measuredByFirst.Count, checkpoint!.Done.Count);
        _instrument.BeforeMeasure = null;
        var second = NewRunner();
        await second.ResumeFromCheckpointAsync(checkpoint, CancellationToken.None);
        await second.Loop!;

        Assert.Equal(Enumerable.Range(0, 16), _instrument.Measured.Order());
        Assert.Equal(ScanState.Completed, second.Progress!.State);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
