using Microsoft.Extensions.Time.Testing;
using Seccm.Stage.Approach;
using Seccm.Stage.Drivers;
using Xunit.Abstractions;

namespace Seccm.Stage.Tests.Approach;

public sealed class ApproachSessionTests(ITestOutputHelper output)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static (SimulatedStage Stage, FakeTimeProvider Time) Create(double noiseNm = 0)
    {
        var time = new FakeTimeProvider();
        return (new SimulatedStage(new SimulatedStageOptions { PositionNoiseNmRms = noiseNm, ServoOnAtStart = true }, time), time);
    }

    /// <summary>
    /// The simulated world across services: the potentiostat knows Z only from the stage's telemetry, so it reports contact
    /// at the first telemetry sample at or below the surface, and the stage stops when that message arrives.
    /// Overshoot = how far below the surface the pipette ends.
    /// </summary>
    [Theory]
    [InlineData(0.5, 50)]
    [InlineData(5, 50)]
    [InlineData(5, 100)]
    [InlineData(0.5, 20)]
    public async Task Contact_stops_within_one_telemetry_period_and_overshoot_is_at_most_speed_times_period(double speedUmPerS, double telemetryHz)
    {
        var (stage, time) = Create(noiseNm: 1);
        const double surfaceZUm = 47.3;
        var period = TimeSpan.FromSeconds(1 / telemetryHz);
        var session = await ApproachSession.StartAsync(stage, speedUmPerS, 20, None);

        ApproachOutcome? outcome = null;
        for (var tick = 0; outcome is null && tick < 100_000; tick++)
        {
            time.Advance(period);
            var telemetry = await stage.GetPositionAsync(None);
            outcome = telemetry.ZUm <= surfaceZUm
                ? await session.StopAsync(ApproachStopReason.Contact, None)
                : await session.TickAsync(telemetry, await stage.IsOnTargetAsync(None), None);
        }

        Assert.NotNull(outcome);
        Assert.Equal(ApproachStopReason.Contact, outcome.Reason);
        var overshootUm = surfaceZUm - stage.TruePosition.ZUm;
        output.WriteLine($"speed {speedUmPerS} um/s, telemetry {telemetryHz} Hz: overshoot {overshootUm * 1e3:0.0} nm (bound {speedUmPerS / telemetryHz * 1e3:0.0} nm)");
        Assert.InRange(overshootUm, -0.005, speedUmPerS / telemetryHz + 0.005);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(outcome.ZUm, stage.TruePosition.ZUm, 0.01);
    }

    [Fact]
    public async Task Without_contact_the_approach_ends_when_the_travel_is_exhausted()
    {
        var (stage, time) = Create();
        var session = await ApproachSession.StartAsync(stage, 5, 2, None);
        ApproachOutcome? outcome = null;
        var ticks = 0;
        while (outcome is null)
        {
            time.Advance(TimeSpan.FromMilliseconds(20));
            ticks++;
            outcome = await session.TickAsync(await stage.GetPositionAsync(None), await stage.IsOnTargetAsync(None), None);
        }
        Assert.Equal(ApproachStopReason.TravelExhausted, outcome.Reason);
        Assert.Equal(58, outcome.ZUm, 2);
        Assert.Equal(2, outcome.TravelledUm, 2);
        Assert.InRange(ticks, 20, 22); // 2 um at 5 um/s = 0.4 s = 20 periods, plus settling
    }

    [Fact]
    public async Task A_stop_between_ticks_halts_at_once_and_later_stops_report_the_same_outcome()
    {
        var (stage, time) = Create();
        var session = await ApproachSession.StartAsync(stage, 5, 10, None);
        time.Advance(TimeSpan.FromMilliseconds(1013));
        var stopped = await session.StopAsync(ApproachStopReason.Stopped, None);
        Assert.Equal(ApproachStopReason.Stopped, stopped.Reason);
        Assert.Equal(60 - 5 * 1.013, stopped.ZUm, 1);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(stopped.ZUm, stage.TruePosition.ZUm, 9);
        Assert.Same(stopped, await session.StopAsync(ApproachStopReason.Contact, None));
        Assert.Same(stopped, await session.TickAsync(stage.TruePosition, true, None));
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(-1, 10)]
    [InlineData(double.NaN, 10)]
    [InlineData(5, 0)]
    [InlineData(5, 61)]
    public async Task Invalid_or_out_of_range_approaches_are_refused_before_anything_moves(double speedUmPerS, double maxTravelUm)
    {
        var (stage, time) = Create();
        var ex = await Assert.ThrowsAsync<StageCommandException>(() => ApproachSession.StartAsync(stage, speedUmPerS, maxTravelUm, None));
        Assert.StartsWith("Approach refused", ex.Message, StringComparison.Ordinal);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(60, stage.TruePosition.ZUm);
    }
}
