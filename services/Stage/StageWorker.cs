using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Stage;
using Seccm.Devices;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Stage.Approach;
using Seccm.Stage.Drivers;
using Seccm.Storage;

namespace Seccm.Stage;

/// <summary>
/// The stage service: answers move/retract/approach/stop/home and publishes position telemetry, fast while anything moves
/// and slow when idle. One motion at a time; <c>stop</c> interrupts whatever runs, at once.
/// </summary>
internal sealed partial class StageWorker(IMessageBus bus, Func<IStage> createDriver, StageOptions options, TimeProvider time,
    ITimeSeriesSink sink, ILogger<StageWorker> logger, Seccm.Messaging.Hosting.SimulationClock? simulation = null)
    : BackgroundService
{
    private readonly ConcurrentDictionary<string, byte> _stopTopics = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _motion = new(1, 1);
    private readonly object _gate = new();
    private readonly DeviceGate _ready = new();
    private IStage _stage = null!;
    private StageLimits _limits = null!;
    private ApproachSession? _approach;
    private string? _approachStopTopic;
    // A contact that arrived while the approach was starting (moving, but not yet registered as the running one).
    private string? _contactWhileStarting;
    private CancellationTokenSource _interrupt = new();
    private CancellationTokenSource _wake = new();
    private TaskCompletionSource<string>? _approachFault;
    private StagePosition? _lastPosition;
    private string? _deviceFault;

    private TimeSpan MovingPeriod => TimeSpan.FromSeconds(1 / options.TelemetryMovingHz);
    private TimeSpan IdlePeriod => TimeSpan.FromSeconds(1 / options.TelemetryIdleHz);

    /// <summary>Long enough for the contact event to come back over the broker before the next approach step.</summary>
    private static readonly TimeSpan MinimumRealStepWait = TimeSpan.FromMilliseconds(1);

    private async Task PublishApproachPositionAsync(StagePosition position)
    {
        var now = time.GetUtcNow();
        await bus.PublishAsync(StageTopics.PositionTopic(bus.Instrument),
            new StagePositionTelemetry(now, position.XUm, position.YUm, position.ZUm, true, true, true),
            MqttQualityOfServiceLevel.AtMostOnce).ConfigureAwait(false);
    }

    /// <summary>Maps the commands before the host has started: the bus announces the service online only after them.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Commands are subscribed before the driver is up so that none sent right after our "online" status is lost;
        // they wait for the driver (or get its start-up error).
        await bus.MapCommandAsync<MoveCommand, StagePositionResult>(StageTopics.MoveVerb, _ready.Guard<MoveCommand, StagePositionResult>(MoveAsync)).ConfigureAwait(false);
        await bus.MapCommandAsync<RetractCommand, StagePositionResult>(StageTopics.RetractVerb, _ready.Guard<RetractCommand, StagePositionResult>(RetractAsync)).ConfigureAwait(false);
        await bus.MapCommandAsync<EmptyCommand, StagePositionResult>(StageTopics.HomeVerb, _ready.Guard<EmptyCommand, StagePositionResult>(HomeAsync)).ConfigureAwait(false);
        await bus.MapCommandAsync<EmptyCommand, StagePositionResult>(StageTopics.StopVerb, _ready.Guard<EmptyCommand, StagePositionResult>(StopAsync)).ConfigureAwait(false);
        await bus.MapCommandAsync<ApproachCommand, ApproachStoppedEvent>(StageTopics.ApproachVerb, _ready.Guard<ApproachCommand, ApproachStoppedEvent>(ApproachAsync)).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            _stage = createDriver();
            await _stage.SetServoAsync(true, stoppingToken).ConfigureAwait(false);
            _limits = await _stage.GetLimitsAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (DeviceException ex)
        {
            LogDriverFailed(logger, ex.Message);
            await _ready.FailAsync(_stage, "the stage driver", ex.Message).ConfigureAwait(false);
            throw;
        }
        _ready.Open();
        LogStarted(logger, _stage.Name, _limits.X.MaxUm - _limits.X.MinUm, _limits.Y.MaxUm - _limits.Y.MinUm, _limits.Z.MinUm, _limits.Z.MaxUm);
        await bus.SetStatusAsync(null, _stage.Name, stoppingToken).ConfigureAwait(false);
        try
        {
            await TelemetryLoopAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            await StopMotionAsync(ApproachStopReason.Stopped, "service stopping", CancellationToken.None).ConfigureAwait(false);
            await _stage.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task TelemetryLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var moving = false;
            try
            {
                // The approach is taken before the reading: a reading started before an approach's move was sent says
                // "on target" and would end that approach as travel exhausted before it went anywhere.
                var approach = Volatile.Read(ref _approach);
                // Stamped before the reading: a reading taken just before a move ends must not look newer than the
                // position published when that move ended.
                var now = time.GetUtcNow();
                var position = await _stage.GetPositionAsync(stoppingToken).ConfigureAwait(false);
                var onTarget = await _stage.IsOnTargetAsync(stoppingToken).ConfigureAwait(false);
                moving = !onTarget || approach is { Outcome: null };
                _lastPosition = position;
                await SetDeviceFaultAsync(null, stoppingToken).ConfigureAwait(false);
                sink.Write(Points.New(Measurements.Stage, bus.Instrument, bus.Service, now)
                    .Field("x_um", position.XUm).Field("y_um", position.YUm).Field("z_um", position.ZUm).Field("moving", !onTarget));
                await bus.PublishAsync(StageTopics.PositionTopic(bus.Instrument),
                    new StagePositionTelemetry(now, position.XUm, position.YUm, position.ZUm, onTarget, !onTarget, approach is { Outcome: null }),
                    MqttQualityOfServiceLevel.AtMostOnce, cancellationToken: stoppingToken).ConfigureAwait(false);
                if (approach is not null)
                {
                    await approach.TickAsync(position, onTarget, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (DeviceException ex)
            {
                // The driver has already retried: the controller is silent or talks nonsense. An approach cannot see
                // where it is any more, so it ends as a fault (the scan then pauses the pixel), and the status says so.
                LogTelemetryFailed(logger, ex.Message);
                Volatile.Read(ref _approachFault)?.TrySetResult($"position unreadable: {ex.Message}");
                await SetDeviceFaultAsync(ex.Message, stoppingToken).ConfigureAwait(false);
            }
            CancellationTokenSource wake;
            lock (_gate)
            {
                wake = _wake;
            }
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, wake.Token);
            try
            {
                await Task.Delay(moving ? MovingPeriod : IdlePeriod, time, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                lock (_gate)
                {
                    if (_wake == wake)
                    {
                        _wake = new CancellationTokenSource();
                    }
                }
                wake.Dispose();
            }
        }
    }

    /// <summary>Switches telemetry to the fast rate now instead of at the end of an idle period.</summary>
    private void Wake()
    {
        lock (_gate)
        {
            _wake.Cancel();
        }
    }

    private async Task<StagePositionResult> MoveAsync(MoveCommand command, CancellationToken cancellationToken)
    {
        var target = new StageTarget(command.XUm, command.YUm, command.ZUm);
        if (_limits.Check(target) is { } problem)
        {
            throw CommandException.Refused($"move: {problem} Nothing moved.");
        }
        if (target.ZUm is not { } z || (target.XUm is null && target.YUm is null))
        {
            return await RunMoveAsync("move", [target], cancellationToken).ConfigureAwait(false);
        }
        // The pipette never travels sideways lower than it has to: up first then across, or across first then down.
        // A pipette left in the sample (a controller that fell silent mid-approach finishes its move down) comes out
        // before it moves on.
        var fromZ = (await Device(() => _stage.GetPositionAsync(cancellationToken)).ConfigureAwait(false)).ZUm;
        var zStep = new StageTarget(ZUm: z);
        var xyStep = target with { ZUm = null };
        return await RunMoveAsync("move", z > fromZ ? [zStep, xyStep] : [xyStep, zStep], cancellationToken).ConfigureAwait(false);
    }

    private async Task<StagePositionResult> RetractAsync(RetractCommand command, CancellationToken cancellationToken)
    {
        var z = (await Device(() => _stage.GetPositionAsync(cancellationToken)).ConfigureAwait(false)).ZUm;
        var target = new StageTarget(ZUm: z + command.DzUm);
        if (_limits.Check(target) is { } problem)
        {
            throw CommandException.Refused(FormattableString.Invariant(
                $"retract by {command.DzUm} um from Z = {z:0.###} um: {problem} Nothing moved."));
        }
        return await RunMoveAsync("retract", [target], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Home raises Z first, then moves X and Y, so the pipette never drags across the sample.</summary>
    private Task<StagePositionResult> HomeAsync(EmptyCommand command, CancellationToken cancellationToken)
    {
        var z = new StageTarget(ZUm: options.HomeZUm ?? _limits.Z.MaxUm);
        var xy = new StageTarget(options.HomeXUm ?? (_limits.X.MinUm + _limits.X.MaxUm) / 2, options.HomeYUm ?? (_limits.Y.MinUm + _limits.Y.MaxUm) / 2);
        foreach (var step in new[] { z, xy })
        {
            if (_limits.Check(step) is { } problem)
            {
                throw CommandException.Refused($"home: the configured home position is outside the travel: {problem} Fix Stage:HomeXUm/HomeYUm/HomeZUm.");
            }
        }
        return RunMoveAsync("home", [z, xy], cancellationToken);
    }

    private async Task<StagePositionResult> StopAsync(EmptyCommand command, CancellationToken cancellationToken)
    {
        await StopMotionAsync(ApproachStopReason.Stopped, "stop command", cancellationToken).ConfigureAwait(false);
        return await PositionResultAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<ApproachStoppedEvent> ApproachAsync(ApproachCommand command, CancellationToken cancellationToken)
    {
        var interrupt = await AcquireMotionAsync("approach").ConfigureAwait(false);
        try
        {
            if (command.StopOnTopic is { } topic && _stopTopics.TryAdd(topic, 0))
            {
                await bus.SubscribeAsync(topic, OnStopTopicMessageAsync).ConfigureAwait(false);
            }
            lock (_gate)
            {
                // From here on a contact counts: the session below starts moving before it is registered, and on a
                // loaded machine the contact could come back in between (it was dropped, and the approach ran to
                // the end of its travel).
                _approachStopTopic = command.StopOnTopic;
                _contactWhileStarting = null;
            }
            ApproachSession session;
            try
            {
                session = simulation is { TimeScale: > 1 } clock && options.Driver == StageOptions.Simulated
                    ? await ApproachSession.StartSteppedAsync(_stage, command.SpeedUmPerS, command.MaxTravelUm, MovingPeriod, clock,
                        MinimumRealStepWait, PublishApproachPositionAsync, cancellationToken).ConfigureAwait(false)
                    : await ApproachSession.StartAsync(_stage, command.SpeedUmPerS, command.MaxTravelUm, cancellationToken).ConfigureAwait(false);
            }
            catch (StageCommandException ex)
            {
                throw CommandException.Refused($"approach: {ex.Message}");
            }
            catch (DeviceException ex)
            {
                throw new CommandException(ErrorCodes.DeviceError, $"approach: {ex.Message}");
            }
            var fault = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            string? early;
            lock (_gate)
            {
                _approach = session;
                _approachFault = fault;
                early = _contactWhileStarting;
                _contactWhileStarting = null;
            }
            Wake();
            if (early is not null)
            {
                await StopOnContactAsync(session, early, cancellationToken).ConfigureAwait(false);
            }
            await bus.PublishAsync(StageTopics.ApproachStartedTopic(bus.Instrument),
                new ApproachStartedEvent(time.GetUtcNow(), session.StartZUm, session.EndZUm, session.SpeedUmPerS, command.StopOnTopic),
                cancellationToken: cancellationToken).ConfigureAwait(false);
            ApproachOutcome outcome;
            try
            {
                var first = await Task.WhenAny(session.Completion, fault.Task).WaitAsync(interrupt).ConfigureAwait(false);
                outcome = first == session.Completion
                    ? await session.Completion.ConfigureAwait(false)
                    : await EndApproachWithoutDeviceAsync(session, ApproachStopReason.Fault, await fault.Task.ConfigureAwait(false)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                outcome = await EndApproachWithoutDeviceAsync(session, ApproachStopReason.Stopped, "stop command").ConfigureAwait(false);
            }
            lock (_gate)
            {
                _approach = null;
                _approachStopTopic = null;
                _approachFault = null;
            }
            var stopped = new ApproachStoppedEvent(time.GetUtcNow(), ReasonText(outcome.Reason), outcome.ZUm, outcome.TravelledUm, outcome.Detail);
            LogApproachEnded(logger, stopped.Reason, outcome.ZUm, outcome.TravelledUm);
            if (_lastPosition is { } last)
            {
                // The position where the approach ended, stamped like the reply: the potentiostat's contact-check waits for
                // the stage's reports up to the reply's time, and this one gets it there without waiting for the next tick.
                await bus.PublishAsync(StageTopics.PositionTopic(bus.Instrument),
                    new StagePositionTelemetry(stopped.TimestampUtc, last.XUm, last.YUm, outcome.ZUm, true, false, false),
                    MqttQualityOfServiceLevel.AtMostOnce, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            await bus.PublishAsync(StageTopics.ApproachStoppedTopic(bus.Instrument), stopped, cancellationToken: CancellationToken.None)
                .ConfigureAwait(false);
            return stopped;
        }
        finally
        {
            lock (_gate)
            {
                _approach = null;
                _approachStopTopic = null;
                _approachFault = null;
                _contactWhileStarting = null;
            }
            _motion.Release();
        }
    }

    /// <summary>Any non-retained message on the approach's stop-on topic is a contact: stop the stage now, not at the next tick.</summary>
    private async Task OnStopTopicMessageAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (message.Retain)
        {
            return;
        }
        ApproachSession? session;
        lock (_gate)
        {
            var matches = _approachStopTopic is not null && TopicFilter.Matches(_approachStopTopic, message.Topic);
            session = matches ? _approach : null;
            if (matches && session is null)
            {
                _contactWhileStarting = $"message on {message.Topic} while the approach started";
                return;
            }
        }
        if (session is null)
        {
            return;
        }
        await StopOnContactAsync(session, $"message on {message.Topic}", cancellationToken).ConfigureAwait(false);
    }

    private async Task StopOnContactAsync(ApproachSession session, string detail, CancellationToken cancellationToken)
    {
        try
        {
            await session.StopAsync(ApproachStopReason.Contact, cancellationToken, detail).ConfigureAwait(false);
        }
        catch (DeviceException ex)
        {
            // Asking the same silent controller again here would only block this subscription; the approach ends as
            // a fault and tries the stop once more on its own.
            LogStopFailed(logger, ex.Message);
            Volatile.Read(ref _approachFault)?.TrySetResult($"stopping on contact failed: {ex.Message}");
        }
    }

    /// <summary>
    /// Stops the approach; when the controller does not answer even that, the approach still ends (as a fault, at the
    /// last Z read) so that the caller gets a reply and the stage is free for the retract that follows the recovery.
    /// </summary>
    private async Task<ApproachOutcome> EndApproachWithoutDeviceAsync(ApproachSession session, ApproachStopReason reason, string detail)
    {
        try
        {
            return await session.StopAsync(reason, CancellationToken.None, detail).ConfigureAwait(false);
        }
        catch (DeviceException ex)
        {
            var z = _lastPosition?.ZUm ?? session.StartZUm;
            return new ApproachOutcome(ApproachStopReason.Fault, z, session.StartZUm - z, $"{detail}; the stop was not confirmed: {ex.Message}");
        }
    }

    /// <summary>
    /// Publishes the controller's state in the retained status on every change: <c>deviceFault</c> true with the driver's
    /// message while it does not answer sensibly, false once it does again.
    /// </summary>
    private async Task SetDeviceFaultAsync(string? fault, CancellationToken cancellationToken)
    {
        var was = _deviceFault;
        if ((was is null) == (fault is null))
        {
            return;
        }
        _deviceFault = fault;
        if (fault is null)
        {
            LogDeviceRecovered(logger, _stage.Name, was!);
        }
        await bus.SetStatusAsync(SeccmJson.ToElement(new DeviceStatusDetails(fault is not null, fault)), _stage.Name, cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task<StagePositionResult> RunMoveAsync(string verb, StageTarget[] steps, CancellationToken cancellationToken)
    {
        var interrupt = await AcquireMotionAsync(verb).ConfigureAwait(false);
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(interrupt, cancellationToken);
            foreach (var step in steps)
            {
                var from = await Device(() => _stage.GetPositionAsync(linked.Token)).ConfigureAwait(false);
                var distance = Enum.GetValues<StageAxis>().Max(a => step[a] is { } t ? Math.Abs(t - from[a]) : 0);
                foreach (var axis in Enum.GetValues<StageAxis>().Where(a => step[a] is not null))
                {
                    await Device(() => _stage.SetVelocityAsync(axis, options.MoveVelocityUmPerS, linked.Token)).ConfigureAwait(false);
                }
                await Device(() => _stage.MoveAbsoluteAsync(step, linked.Token)).ConfigureAwait(false);
                Wake();
                // Generous hang guard in stage time: twice the travel time plus settling.
                var deadline = time.GetTimestamp();
                var allowed = TimeSpan.FromSeconds(2 * distance / options.MoveVelocityUmPerS + 2);
                while (!await Device(() => _stage.IsOnTargetAsync(linked.Token)).ConfigureAwait(false))
                {
                    if (time.GetElapsedTime(deadline) > allowed)
                    {
                        throw new CommandException(ErrorCodes.Timeout,
                            FormattableString.Invariant($"{verb}: the stage did not reach its target within {allowed.TotalSeconds:0.#} s."));
                    }
                    try
                    {
                        // Poll in the stage's own time: a simulated piezo on an accelerated clock is there sooner.
                        await (simulation is { TimeScale: > 1 } clock && options.Driver == StageOptions.Simulated
                            ? clock.DelayAsync(MovingPeriod, MinimumRealStepWait, time, linked.Token)
                            : Task.Delay(MovingPeriod, time, linked.Token)).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
                    {
                        throw CommandException.Refused($"{verb}: interrupted by a stop command.");
                    }
                }
            }
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            throw CommandException.Refused($"{verb}: interrupted by a stop command.");
        }
        finally
        {
            _motion.Release();
        }
        var result = await PositionResultAsync(cancellationToken).ConfigureAwait(false);
        // Tell the world where the pipette is now, not at the next telemetry tick: the simulated potentiostat judges
        // contact from this, and a stale in-contact position would be seen as a contact at the start of the next hold.
        await bus.PublishAsync(StageTopics.PositionTopic(bus.Instrument),
            new StagePositionTelemetry(time.GetUtcNow(), result.XUm, result.YUm, result.ZUm, result.OnTarget, false, false),
            MqttQualityOfServiceLevel.AtMostOnce, cancellationToken: cancellationToken).ConfigureAwait(false);
        return result;
    }

    private async Task<CancellationToken> AcquireMotionAsync(string verb)
    {
        if (!await _motion.WaitAsync(TimeSpan.Zero).ConfigureAwait(false))
        {
            throw new CommandException(ErrorCodes.Busy, $"{verb}: the stage is busy with another move or approach; wait for its reply or send stop.");
        }
        lock (_gate)
        {
            if (_interrupt.IsCancellationRequested)
            {
                _interrupt.Dispose();
                _interrupt = new CancellationTokenSource();
            }
            return _interrupt.Token;
        }
    }

    private async Task StopMotionAsync(ApproachStopReason reason, string detail, CancellationToken cancellationToken)
    {
        ApproachSession? approach;
        lock (_gate)
        {
            approach = _approach;
            _interrupt.Cancel();
        }
        if (approach is not null)
        {
            await Device(() => approach.StopAsync(reason, cancellationToken, detail)).ConfigureAwait(false);
        }
        await Device(() => _stage.StopAsync(cancellationToken)).ConfigureAwait(false);
    }

    private async Task<StagePositionResult> PositionResultAsync(CancellationToken cancellationToken)
    {
        var p = await Device(() => _stage.GetPositionAsync(cancellationToken)).ConfigureAwait(false);
        var onTarget = await Device(() => _stage.IsOnTargetAsync(cancellationToken)).ConfigureAwait(false);
        return new StagePositionResult(p.XUm, p.YUm, p.ZUm, onTarget);
    }

    /// <summary>Driver errors become replies the caller can act on: refused (nothing moved) or device error (port, line).</summary>
    private static async Task<T> Device<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (StageCommandException ex)
        {
            throw CommandException.Refused(ex.Message);
        }
        catch (DeviceException ex)
        {
            throw new CommandException(ErrorCodes.DeviceError, ex.Message);
        }
    }

    private static async Task Device(Func<Task> call) => await Device(async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    }).ConfigureAwait(false);

    private static string ReasonText(ApproachStopReason reason) => reason switch
    {
        ApproachStopReason.Contact => ApproachStopReasons.Contact,
        ApproachStopReason.TravelExhausted => ApproachStopReasons.TravelExhausted,
        ApproachStopReason.Stopped => ApproachStopReasons.Stopped,
        _ => ApproachStopReasons.Fault,
    };

    public override void Dispose()
    {
        _interrupt.Dispose();
        _wake.Dispose();
        _motion.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stage driver {Driver} ready: travel {XUm} x {YUm} um, Z {ZMinUm}..{ZMaxUm} um")]
    private static partial void LogStarted(ILogger logger, string driver, double xUm, double yUm, double zMinUm, double zMaxUm);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Stage driver could not start: {Message}")]
    private static partial void LogDriverFailed(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stage telemetry read failed: {Message}")]
    private static partial void LogTelemetryFailed(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stopping the stage on contact failed: {Message}")]
    private static partial void LogStopFailed(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stage driver {Driver} answers again after: {Fault}")]
    private static partial void LogDeviceRecovered(ILogger logger, string driver, string fault);

    [LoggerMessage(Level = LogLevel.Information, Message = "Approach ended: {Reason} at Z = {ZUm} um after {TravelledUm} um")]
    private static partial void LogApproachEnded(ILogger logger, string reason, double zUm, double travelledUm);
}
