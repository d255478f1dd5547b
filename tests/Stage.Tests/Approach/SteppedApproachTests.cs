using Seccm.Messaging.Hosting;
using Seccm.Stage.Approach;
using Seccm.Stage.Drivers;

namespace Seccm.Stage.Tests.Approach;

/// <summary>The stepped approach of an accelerated simulated world: contact within one step, end of travel, stop.</summary>
public sealed class SteppedApproachTests
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(20);

    private static async Task<(SimulatedStage Stage, SimulationClock Clock)> StageAtAsync(double zUm)
    {
        var clock = new SimulationClock(TimeProvider.System, 200);
        var stage = new SimulatedStage(new SimulatedStageOptions { CoarseZUm = -20, PositionNoiseNmRms = 0 }, clock.Time);
        await stage.SetServoAsync(true, CancellationToken.None);
        await stage.MoveAbsoluteAsync(new StageTarget(10, 10, zUm), CancellationToken.None);
        while (!await stage.IsOnTargetAsync(CancellationToken.None))
        {
            await Task.Delay(5);
        }
        return (stage, clock);
    }

    [Fact]
    public async Task Contact_reported_from_a_position_stops_the_approach_within_one_step_of_it()
    {
        var (stage, clock) = await StageAtAsync(1.0);
        const double surfaceUm = 0.31;
        ApproachSession? session = null;
        var sessionReady = new TaskCompletionSource();
        session = await ApproachSession.StartSteppedAsync(stage, 2, 3, Period, clock, TimeSpan.FromMilliseconds(1), async position =>
        {
            await sessionReady.Task;
            if (position.ZUm <= surfaceUm)
            {
                // What the potentiostat does when it sees the meniscus touch: a message on the stop topic.
                await session!.StopAsync(ApproachStopReason.Contact, CancellationToken.None, "contact");
            }
        }, CancellationToken.None);
        sessionReady.SetResult();

        var outcome = await session.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ApproachStopReason.Contact, outcome.Reason);
        // Each step is reported as it starts, so the stop can land anywhere within the step that touched.
        var stepUm = 2 * Period.TotalSeconds;
        Assert.InRange(outcome.ZUm, surfaceUm - stepUm - 1e-6, surfaceUm + stepUm + 1e-6);
    }

    [Fact]
    public async Task Without_contact_the_approach_ends_when_the_travel_is_used_up()
    {
        var (stage, clock) = await StageAtAsync(1.0);
        var session = await ApproachSession.StartSteppedAsync(stage, 5, 0.5, Period, clock, TimeSpan.FromMilliseconds(1),
            _ => Task.CompletedTask, CancellationToken.None);
        var outcome = await session.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ApproachStopReason.TravelExhausted, outcome.Reason);
        Assert.Equal(0.5, outcome.ZUm, 3);
        Assert.Equal(0.5, outcome.TravelledUm, 3);
    }

    [Fact]
    public async Task A_contact_that_comes_back_after_the_last_step_is_a_contact_not_a_miss()
    {
        var (stage, clock) = await StageAtAsync(1.0);
        ApproachSession? session = null;
        var sessionReady = new TaskCompletionSource();
        Task? late = null;
        session = await ApproachSession.StartSteppedAsync(stage, 5, 0.5, Period, clock, TimeSpan.FromMilliseconds(1), async position =>
        {
            await sessionReady.Task;
            if (position.ZUm <= 0.5 + 1e-9)
            {
                // A loaded machine: the contact from the last step is on its way back after the step's wait is over.
                late = Task.Run(async () =>
                {
                    await Task.Delay(EndOfTravelGraceFraction());
                    await session!.StopAsync(ApproachStopReason.Contact, CancellationToken.None, "late contact");
                });
            }
        }, CancellationToken.None);
        sessionReady.SetResult();

        var outcome = await session.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ApproachStopReason.Contact, outcome.Reason);
        Assert.Equal(0.5, outcome.ZUm, 3);
        await late!.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static TimeSpan EndOfTravelGraceFraction() => ApproachSession.EndOfTravelGrace / 5;

    [Fact]
    public async Task A_travel_below_the_z_limit_is_refused_before_anything_moves()
    {
        var (stage, clock) = await StageAtAsync(-19);
        var ex = await Assert.ThrowsAsync<StageCommandException>(() => ApproachSession.StartSteppedAsync(stage, 2, 3, Period, clock,
            TimeSpan.FromMilliseconds(1), _ => Task.CompletedTask, CancellationToken.None));
        Assert.Contains("below the Z limit", ex.Message, StringComparison.Ordinal);
        Assert.Equal(-19, (await stage.GetPositionAsync(CancellationToken.None)).ZUm, 3);
    }
}
