namespace Seccm.Potentiostat.Drivers;

/// <summary>Where the pipette tip is, in stage coordinates (Z larger = further from the sample).</summary>
public readonly record struct PipettePosition(double XUm, double YUm, double ZUm);

/// <summary>One position as the stage reported it; <see cref="Sequence"/> counts reports from 1 in the stage's time order.</summary>
public readonly record struct ReportedPosition(long Sequence, PipettePosition Position);

/// <summary>
/// The pipette positions the stage reported: the stage's position telemetry in the service, set by hand in tests.
/// A reader that samples more slowly than the stage steps follows every report through <see cref="Since"/>, so it
/// can tell the first position that touched rather than only the one it happened to sample.
/// </summary>
public interface IPipettePositionSource
{
    /// <summary>The newest report; null until a position is known (the simulated cell then counts the pipette as retracted).</summary>
    ReportedPosition? Newest { get; }

    /// <summary>
    /// The reports after <paramref name="afterSequence"/>, oldest first (empty when there is none). Only the last
    /// <see cref="PipettePositionTracker.HistoryLength"/> reports are kept; a reader further behind gets the oldest kept.
    /// </summary>
    IReadOnlyList<ReportedPosition> Since(long afterSequence);
}

/// <summary>A position source that keeps the last reports it was given, in the stage's time order. Thread-safe.</summary>
public sealed class PipettePositionTracker : IPipettePositionSource
{
    /// <summary>
    /// Reports kept. A stepped approach reports about one position per real millisecond; this covers a reader that
    /// stalls for seconds on a loaded machine.
    /// </summary>
    public const int HistoryLength = 4096;

    private readonly object _gate = new();
    private readonly ReportedPosition[] _history = new ReportedPosition[HistoryLength];
    private readonly List<(DateTimeOffset StageTimeUtc, TaskCompletionSource<long> Reached)> _waiting = [];
    private long _sequence;
    private DateTimeOffset _newestStampUtc = DateTimeOffset.MinValue;

    public ReportedPosition? Newest
    {
        get
        {
            lock (_gate)
            {
                return _sequence == 0 ? null : _history[(int)((_sequence - 1) % HistoryLength)];
            }
        }
    }

    /// <summary>The newest position, or null. Setting it appends a report that counts as the newest (tests, hand-set positions).</summary>
    public PipettePosition? Latest
    {
        get => Newest?.Position;
        set
        {
            if (value is { } p)
            {
                lock (_gate)
                {
                    Append(p);
                }
            }
        }
    }

    /// <summary>
    /// Appends a position the stage stamped <paramref name="stageTimeUtc"/>. A report older than the newest one (the
    /// stage's periodic telemetry crossing an end-of-move report) is stale and dropped: returns false.
    /// </summary>
    public bool Report(DateTimeOffset stageTimeUtc, PipettePosition position)
    {
        lock (_gate)
        {
            if (stageTimeUtc < _newestStampUtc)
            {
                return false;
            }
            _newestStampUtc = stageTimeUtc;
            Append(position);
            _waiting.RemoveAll(w => w.StageTimeUtc <= stageTimeUtc && w.Reached.TrySetResult(_sequence));
            return true;
        }
    }

    /// <summary>
    /// Completes, with the report's <see cref="ReportedPosition.Sequence"/>, once a report stamped at or after
    /// <paramref name="stageTimeUtc"/> (the stage's clock) has arrived: from then on every position the stage had up
    /// to that time is in the history (or was dropped as stale).
    /// </summary>
    public Task<long> ReachedAsync(DateTimeOffset stageTimeUtc, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_sequence > 0 && _newestStampUtc >= stageTimeUtc)
            {
                return Task.FromResult(_sequence);
            }
            var reached = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Add((stageTimeUtc, reached));
            return reached.Task.WaitAsync(cancellationToken);
        }
    }

    public IReadOnlyList<ReportedPosition> Since(long afterSequence)
    {
        lock (_gate)
        {
            var first = Math.Max(Math.Max(afterSequence, 0) + 1, _sequence - HistoryLength + 1);
            if (first > _sequence)
            {
                return [];
            }
            var reports = new ReportedPosition[_sequence - first + 1];
            for (var s = first; s <= _sequence; s++)
            {
                reports[s - first] = _history[(int)((s - 1) % HistoryLength)];
            }
            return reports;
        }
    }

    private void Append(PipettePosition position)
    {
        _sequence++;
        _history[(int)((_sequence - 1) % HistoryLength)] = new ReportedPosition(_sequence, position);
    }
}
