using Microsoft.Extensions.Time.Testing;
using Seccm.Devices.Emulators.PiGcs;
using Seccm.Devices.Serial;
using Seccm.Stage.Drivers;
using Seccm.TestSupport;

namespace Seccm.Stage.Tests.Drivers;

/// <summary>
/// The driver against the controller emulator speaking GCS as PI's controllers and PI's own library (PIPython) do:
/// tolerant answers and the controller's axis order. Each test names the behaviour it pins.
/// </summary>
public sealed class PiGcsVendorShapeTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<(SocatPair Pair, PiGcsEmulator Emulator, PiGcsStage Stage)> StartAsync(
        FakeTimeProvider deviceTime, PiGcsEmulatorOptions emulatorOptions, PiGcsStageOptions stageOptions)
    {
        var pair = await SocatPair.StartAsync();
        var emulator = new PiGcsEmulator(StreamSerialLine.OpenPort(pair.DevicePort, PiGcsStageOptions.DefaultLine), deviceTime, emulatorOptions).Start();
        var stage = PiGcsStage.Open(stageOptions with { Port = pair.HostPort, AnswerTimeout = TimeSpan.FromSeconds(3) }, TimeProvider.System);
        return (pair, emulator, stage);
    }

    /// <summary>Pins: "1 = 10.4998" is as valid an answer as "1=10.4998" (PIPython strips spaces around '=').</summary>
    [Fact]
    public async Task Answers_with_spaces_around_the_equals_sign_are_read()
    {
        var time = new FakeTimeProvider();
        var (pair, emulator, stage) = await StartAsync(time, new PiGcsEmulatorOptions { SpacesAroundEquals = true }, new PiGcsStageOptions());
        try
        {
            Assert.Equal(new StageLimits(new AxisRange(0, 100), new AxisRange(0, 100), new AxisRange(0, 60)), await stage.GetLimitsAsync(None));
            await stage.SetServoAsync(true, None);
            await stage.MoveAbsoluteAsync(new StageTarget(XUm: 60.5), None);
            Assert.False(await stage.IsOnTargetAsync(None));
            time.Advance(TimeSpan.FromSeconds(10));
            Assert.True(await stage.IsOnTargetAsync(None));
            Assert.Equal(new StagePosition(60.5, 50, 60), await stage.GetPositionAsync(None));
            Assert.Equal(100, await stage.GetVelocityAsync(StageAxis.X, None));
        }
        finally
        {
            await stage.DisposeAsync();
            await emulator.DisposeAsync();
            pair.Dispose();
        }
    }

    /// <summary>
    /// Pins: bit i of the #5 motion mask is the i-th axis of the controller's order (SAI? ALL), not our X, Y, Z order.
    /// The controller lists A, B, C; the stage drives X = B, Y = C, Z = A, and only Z (A, bit 0) moves.
    /// </summary>
    [Fact]
    public async Task Motion_bits_follow_the_controller_axis_order_from_SAI_ALL()
    {
        var time = new FakeTimeProvider();
        var (pair, emulator, stage) = await StartAsync(time,
            new PiGcsEmulatorOptions { Axes = [new("A", 0, 60, 60), new("B", 0, 100, 50), new("C", 0, 100, 50)] },
            new PiGcsStageOptions { AxisX = "B", AxisY = "C", AxisZ = "A" });
        try
        {
            Assert.Equal(["A", "B", "C"], await stage.GetControllerAxesAsync(None));
            await stage.SetServoAsync(true, None);
            await stage.MoveAbsoluteAsync(new StageTarget(ZUm: 20), None);
            Assert.Equal(new HashSet<StageAxis> { StageAxis.Z }, await stage.GetMovingAxesAsync(None));
            await stage.MoveAbsoluteAsync(new StageTarget(YUm: 70), None);
            Assert.Equal(new HashSet<StageAxis> { StageAxis.Y, StageAxis.Z }, await stage.GetMovingAxesAsync(None));
            time.Advance(TimeSpan.FromSeconds(10));
            Assert.Empty(await stage.GetMovingAxesAsync(None));
        }
        finally
        {
            await stage.DisposeAsync();
            await emulator.DisposeAsync();
            pair.Dispose();
        }
    }

    /// <summary>Pins: an axis we are configured to drive that the controller does not list is a clear error, not a wrong bit.</summary>
    [Fact]
    public async Task An_axis_the_controller_does_not_list_is_named()
    {
        var (pair, emulator, stage) = await StartAsync(new FakeTimeProvider(), new PiGcsEmulatorOptions(), new PiGcsStageOptions { AxisZ = "4" });
        try
        {
            var ex = await Assert.ThrowsAsync<StageCommandException>(() => stage.GetMovingAxesAsync(None));
            Assert.Contains("axis id(s) 4", ex.Message, StringComparison.Ordinal);
            Assert.Contains("1, 2, 3", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            await stage.DisposeAsync();
            await emulator.DisposeAsync();
            pair.Dispose();
        }
    }
}
