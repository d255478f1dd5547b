namespace Seccm.Messaging.Hosting;

/// <summary>
/// The clock of the simulated instruments (piezo motion, sweeps, glovebox drift), kept apart from the real
/// clock that MQTT keep-alives and request timeouts need. <c>Simulation:TimeScale</c> &gt; 1 runs the simulated
/// world faster than real time (the demo); 1 is real time.
/// </summary>
public sealed class SimulationClock(TimeProvider time, double timeScale)
{
    public TimeProvider Time { get; } = timeScale == 1 ? time : new ScaledTimeProvider(time, timeScale);

    public double TimeScale { get; } = timeScale;

    /// <summary>Waits <paramref name="simulated"/> of simulated time, and at least <paramref name="minimumReal"/> of real time.</summary>
    public async Task DelayAsync(TimeSpan simulated, TimeSpan minimumReal, TimeProvider real, CancellationToken cancellationToken)
    {
        var realWait = TimeSpan.FromTicks(Math.Max((long)(simulated.Ticks / TimeScale), minimumReal.Ticks));
        await Task.Delay(realWait, real, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>A clock that runs <c>scale</c> times faster than its source; timers fire scaled accordingly.</summary>
public sealed class ScaledTimeProvider : TimeProvider
{
    private readonly TimeProvider _source;
    private readonly double _scale;
    private readonly DateTimeOffset _epoch;
    private readonly long _startTimestamp;

    public ScaledTimeProvider(TimeProvider source, double scale)
    {
        if (!(scale > 0) || double.IsInfinity(scale))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "Simulation:TimeScale must be a positive number.");
        }
        _source = source;
        _scale = scale;
        _epoch = source.GetUtcNow();
        _startTimestamp = source.GetTimestamp();
    }

    public override long TimestampFrequency => _source.TimestampFrequency;

    public override long GetTimestamp() => _startTimestamp + (long)((_source.GetTimestamp() - _startTimestamp) * _scale);

    public override DateTimeOffset GetUtcNow() => _epoch + (_source.GetUtcNow() - _epoch) * _scale;

    public override TimeZoneInfo LocalTimeZone => _source.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new ScaledTimer(_source.CreateTimer(callback, state, ScaleDue(dueTime, period), Scale(period)), this);

    /// <summary>
    /// Timers cannot fire sooner than about a millisecond of real time; a one-shot wait that scales to less than
    /// <see cref="ImmediateBelow"/> fires at once instead, so a fast simulated world is not slowed to the OS tick.
    /// </summary>
    private TimeSpan ScaleDue(TimeSpan dueTime, TimeSpan period)
    {
        var scaled = Scale(dueTime);
        return period == Timeout.InfiniteTimeSpan && scaled != Timeout.InfiniteTimeSpan && scaled < ImmediateBelow ? TimeSpan.Zero : scaled;
    }

    private static readonly TimeSpan ImmediateBelow = TimeSpan.FromMilliseconds(0.5);

    private TimeSpan Scale(TimeSpan span) =>
        span == Timeout.InfiniteTimeSpan ? span : TimeSpan.FromTicks(Math.Max(span == TimeSpan.Zero ? 0 : 1, (long)(span.Ticks / _scale)));

    private sealed class ScaledTimer(ITimer inner, ScaledTimeProvider owner) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(owner.ScaleDue(dueTime, period), owner.Scale(period));

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
