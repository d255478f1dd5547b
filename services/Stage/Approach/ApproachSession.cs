using Seccm.Stage.Drivers;

namespace Seccm.Stage.Approach;

/// <summary>Why an approach ended.</summary>
public enum ApproachStopReason
{
    /// <summary>A message arrived on the stop-on topic (the potentiostat saw the meniscus touch).</summary>
    Contact,

    /// <summary>The pipette went down by the whole allowed travel without contact.</summary>
    TravelExhausted,

    /// <summary>A stop command or shutdown ended it.</summary>
    Stopped,

    /// <summary>The driver failed during the approach; the stage was told to stop.</summary>
    Fault,
}

/// <summary>How an approach ended: reason, Z where the stage stopped, and how far it went down.</summary>
public sealed record ApproachOutcome(ApproachStopReason Reason, double ZUm, double TravelledUm, string? Detail = null);

/// <summary>
/// One Z approach: a single continuous move down at the requested speed to the end of the allowed travel. A contact or a
/// stop stops the stage the moment it is reported (not at the next tick), so the overshoot after the message is the
/// distance the stage covers within the driver's stop latency; <see cref="TickAsync"/> runs at the telemetry period and
/// notices the end of travel.
/// </summary>
internal sealed class ApproachSession
{
    private readonly IStage _stage;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TaskCompletionSource<ApproachOutcome> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ApproachOutcome? _outcome;

    private ApproachSession(IStage stage, double startZUm, double endZUm, double speedUmPerS)
    {
        _stage = stage;
        StartZUm = startZUm;
        EndZUm = endZUm;
        SpeedUmPerS = speedUmPerS;
    }

    public double StartZUm { get; }
    public double EndZUm { get; }
    public double SpeedUmPerS { get; }

    /// <summary>Completes with the outcome when the approach ends, whichever way.</summary>
    public Task<ApproachOutcome> Completion => _completion.Task;

    /// <summary>Null while the approach runs.</summary>
    public ApproachOutcome? Outcome => Volatile.Read(ref _outcome);

    /// <summary>
    /// Validates and starts the approach. Throws <see cref="StageCommandException"/> before anything moves when the speed or
    /// the travel is not positive, or when the travel would take Z below its lower limit.
    /// </summary>
    public static async Task<ApproachSession> StartAsync(IStage stage, double speedUmPerS, double maxTravelUm, CancellationToken cancellationToken)
    {
        var (startZ, endZ) = await PrepareAsync(stage, speedUmPerS, maxTravelUm, cancellationToken).ConfigureAwait(false);
        await stage.MoveAbsoluteAsync(new StageTarget(ZUm: endZ), cancellationToken).ConfigureAwait(false);
        return new ApproachSession(stage, startZ, endZ, speedUmPerS);
    }

    /// <summary>
    /// An approach in small steps for a simulated world on an accelerated clock: each step moves Z by
    /// speed x period, reports the position (so the simulated potentiostat sees it), then waits one period of
    /// simulated time and at least <paramref name="minimumRealWait"/> of real time so that a contact message can
    /// arrive before the next step. A continuous move would overshoot by the message latency times the time scale.
    /// On a loaded machine that latency still spans many steps, and a contact can come back after the last step:
    /// at the end of travel the approach waits up to <see cref="EndOfTravelGrace"/> (real time) for a stop before it
    /// counts as travel exhausted.
    /// </summary>
    public static async Task<ApproachSession> StartSteppedAsync(IStage stage, double speedUmPerS, double maxTravelUm, TimeSpan period,
        Seccm.Messaging.Hosting.SimulationClock clock, TimeSpan minimumRealWait, Func<StagePosition, Task> report, CancellationToken cancellationToken)
    {
        var (startZ, endZ) = await PrepareAsync(stage, speedUmPerS, maxTravelUm, cancellationToken).ConfigureAwait(false);
        var session = new ApproachSession(stage, startZ, endZ, speedUmPerS) { _stepped = true };
        var stepUm = speedUmPerS * period.TotalSeconds;
        _ = Task.Run(async () =>
        {
            var z = startZ;
            try
            {
                while (session.Outcome is null)
                {
                    z = Math.Max(endZ, z - stepUm);
                    await stage.MoveAbsoluteAsync(new StageTarget(ZUm: z), CancellationToken.None).ConfigureAwait(false);
                    // Report where this step goes before waiting for it, so that the round trip (position out,
                    // contact back) runs during the step rather than after it.
                    var position = await stage.GetPositionAsync(CancellationToken.None).ConfigureAwait(false);
                    await report(position with { ZUm = z }).ConfigureAwait(false);
                    await clock.DelayAsync(period, minimumRealWait, TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
                    if (session.Outcome is not null)
                    {
                        break;
                    }
                    if (z <= endZ && session.Outcome is null)
                    {
                        // The reports of the last steps may still be on their way to the potentiostat and its contact
                        // on its way back; a contact that was made must not be recorded as a miss.
                        try
                        {
                            await session.Completion.WaitAsync(EndOfTravelGrace, TimeProvider.System).ConfigureAwait(false);
                            break;
                        }
                        catch (TimeoutException)
                        {
                            // No stop within the grace: nothing touched.
                        }
                        await session._gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                        try
                        {
                            if (session.Outcome is null)
                            {
                                var end = await stage.GetPositionAsync(CancellationToken.None).ConfigureAwait(false);
                                session.Finish(new ApproachOutcome(ApproachStopReason.TravelExhausted, end.ZUm, startZ - end.ZUm));
                            }
                        }
                        finally
                        {
                            session._gate.Release();
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is Seccm.Devices.DeviceException or InvalidOperationException)
            {
                await session.StopAsync(ApproachStopReason.Fault, CancellationToken.None, ex.Message).ConfigureAwait(false);
            }
        }, CancellationToken.None);
        return session;
    }

    private bool _stepped;

    /// <summary>
    /// How long a stepped approach at the end of its travel waits for a contact still in flight. Measured under a
    /// load average of 50-90 on 2 cores: contacts came back 25 steps (about 30 ms) after the step that touched, and
    /// with 1 s one approach in about 200 still missed; only an approach that touches nothing pays the wait.
    /// </summary>
    public static readonly TimeSpan EndOfTravelGrace = TimeSpan.FromSeconds(3);

    /// <summary>Checks speed and travel against the Z limit before anything moves; sets the Z velocity.</summary>
    private static async Task<(double StartZ, double EndZ)> PrepareAsync(IStage stage, double speedUmPerS, double maxTravelUm,
        CancellationToken cancellationToken)
    {
        if (!(speedUmPerS > 0) || !double.IsFinite(speedUmPerS))
        {
            throw new StageCommandException($"Approach refused: speedUmPerS must be a positive number, got {speedUmPerS}.");
        }
        if (!(maxTravelUm > 0) || !double.IsFinite(maxTravelUm))
        {
            throw new StageCommandException($"Approach refused: maxTravelUm must be a positive number, got {maxTravelUm}.");
        }
        var limits = await stage.GetLimitsAsync(cancellationToken).ConfigureAwait(false);
        var startZ = (await stage.GetPositionAsync(cancellationToken).ConfigureAwait(false)).ZUm;
        var endZ = startZ - maxTravelUm;
        if (endZ < limits.Z.MinUm)
        {
            throw new StageCommandException(FormattableString.Invariant(
                $"Approach refused: going down {maxTravelUm} um from Z = {startZ:0.###} um reaches {endZ:0.###} um, below the Z limit {limits.Z.MinUm} um. Retract or move the coarse Z first."));
        }
        await stage.SetVelocityAsync(StageAxis.Z, speedUmPerS, cancellationToken).ConfigureAwait(false);
        return (startZ, endZ);
    }

    /// <summary>Stops the stage at once for <paramref name="reason"/>; the first call wins, later calls return the same outcome.</summary>
    public async Task<ApproachOutcome> StopAsync(ApproachStopReason reason, CancellationToken cancellationToken, string? detail = null)
    {
        if (Outcome is { } done)
        {
            return done;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Outcome is { } decided)
            {
                return decided;
            }
            await _stage.StopAsync(cancellationToken).ConfigureAwait(false);
            var z = (await _stage.GetPositionAsync(cancellationToken).ConfigureAwait(false)).ZUm;
            return Finish(new ApproachOutcome(reason, z, StartZUm - z, detail));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Called once per telemetry period with the latest reading; ends the approach when the travel is used up.</summary>
    public async Task<ApproachOutcome?> TickAsync(StagePosition position, bool onTarget, CancellationToken cancellationToken)
    {
        if (Outcome is { } done)
        {
            return done;
        }
        if (!onTarget || _stepped)
        {
            // A stepped approach is on target between steps; its own loop notices the end of travel.
            return null;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Outcome ?? Finish(new ApproachOutcome(ApproachStopReason.TravelExhausted, position.ZUm, StartZUm - position.ZUm));
        }
        finally
        {
            _gate.Release();
        }
    }

    private ApproachOutcome Finish(ApproachOutcome outcome)
    {
        Volatile.Write(ref _outcome, outcome);
        _completion.TrySetResult(outcome);
        return outcome;
    }
}
