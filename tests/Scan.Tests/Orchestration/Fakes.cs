using System.Collections.Concurrent;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Scan;
using Seccm.Messaging.Commands;
using Seccm.Scan.Orchestration;

namespace Seccm.Scan.Tests.Orchestration;

/// <summary>An instrument that records what the runner asks of it (unit tests of the runner's logic only).</summary>
internal sealed class RecordingInstrument : IScanInstrument
{
    public ConcurrentQueue<int> Measured { get; } = new();

    public ConcurrentQueue<(bool On, string Reason)> Pump { get; } = new();

    public HashSet<int> NoContactPixels { get; } = [];

    /// <summary>Pixels whose measurement fails once (a service went away mid-pixel).</summary>
    public ConcurrentDictionary<int, bool> FailOnce { get; } = new();

    /// <summary>Pixels whose next measurement fails because its target went offline under the request.</summary>
    public ConcurrentDictionary<int, bool> OfflineOnce { get; } = new();

    public Func<int, CancellationToken, Task>? BeforeMeasure { get; set; }

    /// <summary>Pixels during whose approach the link drops (once each) and the approach therefore misses contact.</summary>
    public ConcurrentDictionary<int, bool> LinkDropsDuringApproach { get; } = new();

    /// <summary>Pixels during whose measurement the link drops every time.</summary>
    public HashSet<int> LinkAlwaysDropsDuringMeasure { get; } = [];

    public ConcurrentQueue<int> Approaches { get; } = new();

    /// <summary>Where each approach started (null: the runner did not move to a height first).</summary>
    public ConcurrentQueue<(int Pixel, double? StartZUm)> ApproachStarts { get; } = new();

    /// <summary>Heights the next moves to a height end at instead (a controller that came back somewhere else).</summary>
    public ConcurrentQueue<double> MoveEndsAt { get; } = new();

    /// <summary>Pixels whose next approach finds no contact (once each).</summary>
    public ConcurrentDictionary<int, bool> NoContactOnce { get; } = new();

    /// <summary>The pipette's height as far as this fake knows; the sample surface is at 0.</summary>
    public double? ZUm { get; private set; }

    private long _linkEpoch;

    public long LinkEpoch => Interlocked.Read(ref _linkEpoch);

    public bool PumpOn => Pump.LastOrDefault().On;

    public Task RetractAsync(double dzUm, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<double> MoveXyAsync(double xUm, double yUm, double? zUm, CancellationToken cancellationToken)
    {
        if (zUm is { } z)
        {
            ZUm = MoveEndsAt.TryDequeue(out var elsewhere) ? elsewhere : z;
        }
        return Task.FromResult(ZUm ?? 0);
    }

    public Task<ApproachOutcome> ApproachAsync(string scanId, PixelSpec pixel, ApproachSpec approach, CancellationToken cancellationToken)
    {
        Approaches.Enqueue(pixel.Index);
        ApproachStarts.Enqueue((pixel.Index, ZUm));
        if (ZUm < 0 || NoContactOnce.TryRemove(pixel.Index, out _))
        {
            // Started in the sample (nothing to touch below), or the contact was missed.
            return Task.FromResult(new ApproachOutcome(false, null, "travel exhausted"));
        }
        if (LinkDropsDuringApproach.TryRemove(pixel.Index, out _))
        {
            // The contact event was lost with the broker: the stage ran to the end of its travel.
            Interlocked.Increment(ref _linkEpoch);
            return Task.FromResult(new ApproachOutcome(false, null, "travel exhausted"));
        }
        return Task.FromResult(NoContactPixels.Contains(pixel.Index)
            ? new ApproachOutcome(false, null, "travel exhausted")
            : new ApproachOutcome(true, 0.01 * pixel.Index, "contact"));
    }

    /// <summary>Sample flags the potentiostat reports for a pixel's measurements, in order (then none).</summary>
    public ConcurrentDictionary<int, ConcurrentQueue<string>> SampleFlags { get; } = new();

    public async Task<Measured> MeasureAsync(string scanId, PixelSpec pixel, Recipe recipe, CancellationToken cancellationToken)
    {
        if (BeforeMeasure is { } hook)
        {
            await hook(pixel.Index, cancellationToken);
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (FailOnce.TryRemove(pixel.Index, out _))
        {
            throw new CommandException(ErrorCodes.Timeout, "potentiostat did not answer");
        }
        if (OfflineOnce.TryRemove(pixel.Index, out _))
        {
            throw new CommandTargetOfflineException("No reply to 'seccm/t/stage/cmd/move': stage went offline (status 'offline')");
        }
        if (LinkAlwaysDropsDuringMeasure.Contains(pixel.Index))
        {
            Interlocked.Increment(ref _linkEpoch);
        }
        Measured.Enqueue(pixel.Index);
        return new Measured(SampleFlags.TryGetValue(pixel.Index, out var flags) && flags.TryDequeue(out var next) ? next : null, 0);
    }

    public Task SettleAsync(double seconds, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task SetPumpAsync(bool on, string reason, CancellationToken cancellationToken)
    {
        Pump.Enqueue((on, reason));
        return Task.CompletedTask;
    }
}

internal sealed class SwitchableInterlocks : IInterlocks
{
    public volatile string? Trip;

    public InterlockVerdict Check(GloveboxLimits limits) => Trip is null ? InterlockVerdict.Ok : new InterlockVerdict(false, Trip);
}

internal sealed class RecordingEvents : IScanEvents
{
    public ConcurrentQueue<PixelDoneEvent> Pixels { get; } = new();

    public ConcurrentQueue<ScanStateEvent> States { get; } = new();

    /// <summary>Completes with the first change to <see cref="ScanState.Paused"/>.</summary>
    public Task<ScanStateEvent> FirstPause => _firstPause.Task;

    public ConcurrentQueue<ScanFinishedEvent> Finished { get; } = new();

    private readonly TaskCompletionSource<ScanStateEvent> _firstPause = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ScanProgress? LastProgress { get; private set; }

    public Task StartedAsync(ScanStartedEvent started, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task PixelDoneAsync(PixelDoneEvent pixel, CancellationToken cancellationToken)
    {
        Pixels.Enqueue(pixel);
        return Task.CompletedTask;
    }

    public Task ProgressAsync(ScanProgress progress, CancellationToken cancellationToken)
    {
        LastProgress = progress;
        return Task.CompletedTask;
    }

    public Task StateChangedAsync(ScanStateEvent change, CancellationToken cancellationToken)
    {
        States.Enqueue(change);
        if (change.State == ScanState.Paused)
        {
            _firstPause.TrySetResult(change);
        }
        return Task.CompletedTask;
    }

    public Task FinishedAsync(ScanFinishedEvent finished, CancellationToken cancellationToken)
    {
        Finished.Enqueue(finished);
        return Task.CompletedTask;
    }
}
