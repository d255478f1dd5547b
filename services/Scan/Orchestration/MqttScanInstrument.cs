using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Glovebox;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Stage;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Messaging.Hosting;

namespace Seccm.Scan.Orchestration;

/// <summary>The per-pixel steps as request/reply commands to the stage, potentiostat and glovebox services.</summary>
internal sealed class MqttScanInstrument(IMessageBus bus, SimulationClock simulation, ScanOptions options, ILogger? logger = null) : IScanInstrument
{
    /// <summary>How long after the stage reports contact the potentiostat's contact event may still be on its way.</summary>
    private static readonly TimeSpan ContactEventGrace = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _subscribe = new(1, 1);
    private bool _contactSubscribed;
    private TaskCompletionSource<ContactEvent>? _contact;

    private TimeSpan CommandTimeout => TimeSpan.FromSeconds(options.CommandTimeoutSeconds);

    public long LinkEpoch => bus.ConnectionEpoch;

    public Task RetractAsync(double dzUm, CancellationToken cancellationToken) =>
        bus.CallAsync<RetractCommand, StagePositionResult>(ServiceNames.Stage, StageTopics.RetractVerb, new RetractCommand(dzUm),
            CommandTimeout + MotionTime(dzUm, 10), cancellationToken);

    public async Task<double> MoveXyAsync(double xUm, double yUm, double? zUm, CancellationToken cancellationToken) =>
        (await bus.CallAsync<MoveCommand, StagePositionResult>(ServiceNames.Stage, StageTopics.MoveVerb, new MoveCommand(xUm, yUm, zUm),
            CommandTimeout + MotionTime(100, 10), cancellationToken).ConfigureAwait(false)).ZUm;

    public async Task<ApproachOutcome> ApproachAsync(string scanId, PixelSpec pixel, ApproachSpec approach, CancellationToken cancellationToken)
    {
        await EnsureContactSubscriptionAsync().ConfigureAwait(false);
        var contact = new TaskCompletionSource<ContactEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _contact, contact);
        // The potentiostat holds the bias and watches the current; its contact event stops the stage.
        var hold = new HoldCommand(approach.BiasV, DurationS: null, IntervalS: 0.001, ContactThresholdA: approach.ContactThresholdA, Pixel: pixel.Index);
        try
        {
            await bus.CallAsync<HoldCommand, HoldStartedResult>(ServiceNames.Potentiostat, PotentiostatTopics.HoldVerb, hold, CommandTimeout, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (CommandFailedException ex) when (ex.Code == ErrorCodes.Busy)
        {
            // A scan process killed mid-approach leaves its open-ended hold running: stop it, then hold for this pixel.
            await bus.CallAsync<EmptyCommand, AbortResult>(ServiceNames.Potentiostat, PotentiostatTopics.AbortVerb, new EmptyCommand(),
                CommandTimeout, cancellationToken).ConfigureAwait(false);
            await bus.CallAsync<HoldCommand, HoldStartedResult>(ServiceNames.Potentiostat, PotentiostatTopics.HoldVerb, hold, CommandTimeout, cancellationToken)
                .ConfigureAwait(false);
        }
        try
        {
            var stopped = await bus.CallAsync<ApproachCommand, ApproachStoppedEvent>(ServiceNames.Stage, StageTopics.ApproachVerb,
                new ApproachCommand(approach.SpeedUmPerS, approach.MaxTravelUm, PotentiostatTopics.ContactTopic(bus.Instrument)),
                CommandTimeout + MotionTime(approach.MaxTravelUm, approach.SpeedUmPerS), cancellationToken).ConfigureAwait(false);
            return stopped.Reason switch
            {
                ApproachStopReasons.Contact => new ApproachOutcome(true, await ContactZAsync(contact, stopped.ZUm, cancellationToken).ConfigureAwait(false),
                    stopped.Reason),
                ApproachStopReasons.TravelExhausted => await ContactUpToStopAsync(stopped, approach, cancellationToken).ConfigureAwait(false),
                _ => throw new CommandException(ErrorCodes.DeviceError, $"the approach stopped: {stopped.Reason} {stopped.Detail}"),
            };
        }
        finally
        {
            await bus.CallAsync<EmptyCommand, AbortResult>(ServiceNames.Potentiostat, PotentiostatTopics.AbortVerb, new EmptyCommand(),
                CommandTimeout, CancellationToken.None).ConfigureAwait(false);
        }
    }

    public async Task<Measured> MeasureAsync(string scanId, PixelSpec pixel, Recipe recipe, CancellationToken cancellationToken)
    {
        var technique = recipe.Technique!;
        TechniqueFinishedEvent finished;
        switch (technique.Kind)
        {
            case TechniqueKind.Cv:
                var cv = technique.Cv!;
                var sweepV = Math.Abs(cv.Vertex1V - cv.StartV) + Math.Abs(cv.Vertex2V - cv.Vertex1V) + Math.Abs(cv.StartV - cv.Vertex2V);
                var seconds = cv.ScanRatesVPerS.Sum(rate => sweepV / rate) * cv.Cycles;
                finished = await bus.CallAsync<CvCommand, TechniqueFinishedEvent>(ServiceNames.Potentiostat, PotentiostatTopics.CvVerb,
                    new CvCommand(scanId, pixel.Index, cv.StartV, cv.Vertex1V, cv.Vertex2V, cv.ScanRatesVPerS, cv.StepV, cv.Cycles,
                        XUm: pixel.XUm, YUm: pixel.YUm),
                    CommandTimeout + InstrumentTime(seconds), cancellationToken).ConfigureAwait(false);
                break;
            case TechniqueKind.Hold:
                var hold = technique.Hold!;
                finished = await bus.CallAsync<HoldCommand, TechniqueFinishedEvent>(ServiceNames.Potentiostat, PotentiostatTopics.HoldVerb,
                    new HoldCommand(hold.PotentialV, hold.DurationS, hold.IntervalS, ScanId: scanId, Pixel: pixel.Index),
                    CommandTimeout + InstrumentTime(hold.DurationS), cancellationToken).ConfigureAwait(false);
                break;
            case TechniqueKind.ChargeDischarge:
                var cd = technique.ChargeDischarge!;
                finished = await bus.CallAsync<ChargeDischargeCommand, TechniqueFinishedEvent>(ServiceNames.Potentiostat, PotentiostatTopics.ChargeDischargeVerb,
                    new ChargeDischargeCommand(scanId, pixel.Index, Math.Abs(cd.ChargeCurrentA), Math.Abs(cd.DischargeCurrentA), cd.UpperCutoffV,
                        cd.LowerCutoffV, cd.Cycles, cd.MaxDurationS, cd.IntervalS, CurrentRangeFor(Math.Max(Math.Abs(cd.ChargeCurrentA), Math.Abs(cd.DischargeCurrentA))),
                        pixel.XUm, pixel.YUm),
                    CommandTimeout + InstrumentTime(cd.MaxDurationS), cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new CommandException(ErrorCodes.InvalidArgument,
                    $"technique {technique.Kind} is not supported by the potentiostat service's scan path yet");
        }
        if (finished.Outcome != TechniqueOutcomes.Completed)
        {
            throw new CommandException(ErrorCodes.DeviceError, $"the {finished.Technique} at pixel {pixel.Index} ended {finished.Outcome}: {finished.Detail}");
        }
        return new Measured(finished.SampleFlags, finished.Take);
    }

    public Task SettleAsync(double seconds, CancellationToken cancellationToken) =>
        seconds <= 0 ? Task.CompletedTask : simulation.DelayAsync(TimeSpan.FromSeconds(seconds), TimeSpan.Zero, TimeProvider.System, cancellationToken);

    public Task SetPumpAsync(bool on, string reason, CancellationToken cancellationToken) =>
        bus.CallAsync<PumpCommand, PumpStateResult>(ServiceNames.Glovebox, GloveboxTopics.PumpVerb, PumpCommand.Switch(on, reason), CommandTimeout,
            cancellationToken);

    /// <summary>The smallest of the usual decade ranges (1 nA to 1 mA) that holds <paramref name="currentA"/>.</summary>
    private static double CurrentRangeFor(double currentA)
    {
        var range = 1e-9;
        while (range < currentA && range < 1e-3)
        {
            range *= 10;
        }
        return range;
    }

    /// <summary>
    /// The stage stops a message round trip after the potentiostat saw contact, lower than the surface: the pipette
    /// z of the sample that crossed the threshold is the height; the stage's stopped z is the fallback.
    /// </summary>
    private static async Task<double?> ContactZAsync(TaskCompletionSource<ContactEvent> contact, double stoppedZUm, CancellationToken cancellationToken)
    {
        try
        {
            var e = await contact.Task.WaitAsync(ContactEventGrace, cancellationToken).ConfigureAwait(false);
            return e.PipetteZUm ?? stoppedZUm;
        }
        catch (TimeoutException)
        {
            return stoppedZUm;
        }
    }

    /// <summary>
    /// The travel ended without a stop on contact. The potentiostat may still have seen the meniscus touch: its contact
    /// event reached the stage too late, or (simulated cell) the stage's positions reached it too late. It is asked, and
    /// answers once it has the stage's positions up to the stop and a sample after them, whatever the message timing.
    /// </summary>
    private async Task<ApproachOutcome> ContactUpToStopAsync(ApproachStoppedEvent stopped, ApproachSpec approach, CancellationToken cancellationToken)
    {
        var check = await bus.CallAsync<ContactCheckCommand, ContactCheckResult>(ServiceNames.Potentiostat, PotentiostatTopics.ContactCheckVerb,
            new ContactCheckCommand(stopped.TimestampUtc), CommandTimeout, cancellationToken).ConfigureAwait(false);
        return check.Event is { } e
            ? new ApproachOutcome(true, e.PipetteZUm ?? stopped.ZUm, ApproachStopReasons.Contact)
            : new ApproachOutcome(false, null, $"no contact within {approach.MaxTravelUm} um");
    }

    private async Task EnsureContactSubscriptionAsync()
    {
        if (Volatile.Read(ref _contactSubscribed))
        {
            return;
        }
        await _subscribe.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_contactSubscribed)
            {
                await bus.SubscribeAsync(PotentiostatTopics.ContactTopic(bus.Instrument), OnContactAsync).ConfigureAwait(false);
                _contactSubscribed = true;
            }
        }
        finally
        {
            _subscribe.Release();
        }
    }

    // A malformed or out-of-range contact event cannot give a height: logged, and the approach falls back to the stage's z.
    private Task OnContactAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (message.TryRead(logger ?? NullLogger.Instance, "the approach uses the stage's z", out ContactEvent? contact))
        {
            Volatile.Read(ref _contact)?.TrySetResult(contact);
        }
        return Task.CompletedTask;
    }

    private TimeSpan InstrumentTime(double simulatedSeconds) => TimeSpan.FromSeconds(simulatedSeconds / simulation.TimeScale * 1.5);

    private TimeSpan MotionTime(double distanceUm, double speedUmPerS) => InstrumentTime(distanceUm / speedUmPerS);
}
