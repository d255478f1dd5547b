using Microsoft.Extensions.Time.Testing;
using Seccm.Stage.Drivers;

namespace Seccm.Stage.Tests.Drivers;

public sealed class SimulatedStageTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static (SimulatedStage Stage, FakeTimeProvider Time) Create(SimulatedStageOptions? options = null)
    {
        var time = new FakeTimeProvider();
        var stage = new SimulatedStage(options ?? new SimulatedStageOptions { PositionNoiseNmRms = 0, ServoOnAtStart = true }, time);
        return (stage, time);
    }

    [Fact]
    public async Task Default_limits_are_100_by_100_by_60_um_above_the_coarse_z()
    {
        var (stage, _) = Create(new SimulatedStageOptions { CoarseZUm = 250 });
        var limits = await stage.GetLimitsAsync(None);
        Assert.Equal(new AxisRange(0, 100), limits.X);
        Assert.Equal(new AxisRange(0, 100), limits.Y);
        Assert.Equal(new AxisRange(250, 310), limits.Z);
        Assert.Equal(new StagePosition(50, 50, 310), stage.TruePosition);
    }

    [Fact]
    public async Task A_move_takes_distance_over_velocity_and_position_is_interpolated_on_the_way()
    {
        var (stage, time) = Create();
        await stage.SetVelocityAsync(StageAxis.X, 20, None);
        await stage.MoveAbsoluteAsync(new StageTarget(XUm: 70), None); // 20 um at 20 um/s: 1 s

        time.Advance(TimeSpan.FromSeconds(0.5));
        var halfway = await stage.GetPositionAsync(None);
        // Setpoint at 60 um; the closed loop lags the ramp by v * tau = 20 um/s * 2 ms = 40 nm.
        Assert.Equal(60 - 0.040, halfway.XUm, 6);
        Assert.Equal(50, halfway.YUm, 9);
        Assert.False(await stage.IsOnTargetAsync(None));

        time.Advance(TimeSpan.FromSeconds(0.5));
        // The ramp is over but the loop has not settled: still 40 nm behind, not on target.
        Assert.Equal(70 - 0.040, (await stage.GetPositionAsync(None)).XUm, 6);
        Assert.False(await stage.IsOnTargetAsync(None));

        // Settling: 40 nm -> below the 5 nm window takes tau ln(8) = 4.2 ms.
        time.Advance(TimeSpan.FromMilliseconds(4));
        Assert.False(await stage.IsOnTargetAsync(None));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await stage.IsOnTargetAsync(None));
        Assert.Equal(70, (await stage.GetPositionAsync(None)).XUm, 2);
    }

    [Fact]
    public async Task Stop_mid_move_freezes_the_position_at_once()
    {
        var (stage, time) = Create();
        await stage.SetVelocityAsync(StageAxis.Z, 5, None);
        await stage.MoveRelativeAsync(new StageTarget(ZUm: -10), None);
        time.Advance(TimeSpan.FromSeconds(1));
        await stage.StopAsync(None);
        var stoppedAt = stage.TruePosition.ZUm;
        Assert.Equal(60 - 5 + 0.010, stoppedAt, 6);

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(stoppedAt, stage.TruePosition.ZUm, 9);
        Assert.True(await stage.IsOnTargetAsync(None));
    }

    [Fact]
    public async Task Moves_outside_the_travel_limits_are_refused_and_nothing_moves()
    {
        var (stage, time) = Create();
        var ex = await Assert.ThrowsAsync<StageCommandException>(() => stage.MoveAbsoluteAsync(new StageTarget(10, 10, 61), None));
        Assert.Contains("Z = 61", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StageCommandException>(() => stage.MoveRelativeAsync(new StageTarget(XUm: 50.5), None));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(new StagePosition(50, 50, 60), stage.TruePosition);
    }

    [Fact]
    public async Task Moves_need_the_servo_and_velocity_must_be_in_range()
    {
        var (stage, _) = Create(new SimulatedStageOptions { PositionNoiseNmRms = 0 });
        var ex = await Assert.ThrowsAsync<StageCommandException>(() => stage.MoveAbsoluteAsync(new StageTarget(XUm: 1), None));
        Assert.Contains("servo", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StageCommandException>(() => stage.SetVelocityAsync(StageAxis.X, 0, None));
        await Assert.ThrowsAsync<StageCommandException>(() => stage.SetVelocityAsync(StageAxis.X, 5000, None));
        await stage.SetServoAsync(true, None);
        await stage.MoveAbsoluteAsync(new StageTarget(XUm: 1), None);
    }

    [Fact]
    public async Task A_new_move_during_a_move_keeps_the_position_continuous()
    {
        var (stage, time) = Create();
        await stage.MoveAbsoluteAsync(new StageTarget(XUm: 60), None);
        time.Advance(TimeSpan.FromSeconds(0.5));
        var before = stage.TruePosition.XUm;
        await stage.MoveAbsoluteAsync(new StageTarget(XUm: 40), None);
        Assert.Equal(before, stage.TruePosition.XUm, 9);
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(40, stage.TruePosition.XUm, 6);
    }

    [Fact]
    public async Task Position_noise_has_the_configured_rms_and_is_reproducible_with_the_seed()
    {
        var options = new SimulatedStageOptions { PositionNoiseNmRms = 3, Seed = 42 };
        var (a, _) = Create(options);
        var (b, _) = Create(options);
        var sumSq = 0.0;
        const int n = 4000;
        for (var i = 0; i < n; i++)
        {
            var pa = await a.GetPositionAsync(None);
            Assert.Equal(pa, await b.GetPositionAsync(None));
            sumSq += Math.Pow((pa.XUm - 50) * 1e3, 2);
        }
        Assert.InRange(Math.Sqrt(sumSq / n), 2.8, 3.2);
    }
}
