using System.Globalization;
using InfluxDB.Client.Writes;
using Microsoft.Extensions.Logging;
using Seccm.Storage.Backends;

namespace Seccm.Storage.Sink;

/// <summary>Batching and outage handling, the same for every backend.</summary>
internal sealed record SinkSettings(
    int BatchSize,
    TimeSpan FlushInterval,
    int MaxPendingPoints,
    string BufferDirectory,
    long MaxBufferBytes,
    TimeSpan MaxRetryDelay,
    TimeSpan ShutdownTimeout)
{
    public static SinkSettings From(StorageOptions o) => new(
        o.BatchSize,
        TimeSpan.FromMilliseconds(o.FlushIntervalMs),
        o.MaxPendingPoints,
        o.BufferDirectory,
        o.MaxBufferBytes,
        TimeSpan.FromMilliseconds(o.MaxRetryDelayMs),
        TimeSpan.FromMilliseconds(o.ShutdownTimeoutMs));
}

/// <summary>
/// Queues points as line protocol, sends them in batches from one background loop, and keeps them in a
/// <see cref="DiskBuffer"/> while the backend cannot take them.
/// </summary>
/// <remarks>
/// Order: every batch taken from memory gets the next sequence number under the same lock that spills
/// memory to disk, and once anything is on disk every newer batch goes to disk behind it. Segments are
/// replayed by sequence number, so points reach the database in the order they were written even across
/// outages and restarts. Delivery is at-least-once (a crash mid-segment resends part of it); that is
/// harmless because InfluxDB overwrites a point with the same series and timestamp.
/// </remarks>
internal sealed partial class BufferedSink : ITimeSeriesSink, IAsyncDisposable
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly ILineProtocolWriter _writer;
    private readonly SinkSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly DiskBuffer _disk;

    private readonly object _sync = new();
    private List<string> _pending = [];
    private long _nextSequence;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopped;

    // Only the pump (under _gate) touches these.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string[]? _headLines;
    private long _headSequence = -1;
    private int _headOffset;
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;
    private TimeSpan _retryDelay = FirstRetryDelay;

    private volatile bool _backendReachable = true;
    private long _written;
    private long _delivered;
    private long _quarantined;
    private long _dropped;

    private CancellationTokenSource? _loopStop;
    private Task? _loop;
    private int _disposed;

    public BufferedSink(ILineProtocolWriter writer, SinkSettings settings, TimeProvider time, ILogger logger)
    {
        _writer = writer;
        _settings = settings;
        _time = time;
        _logger = logger;
        _disk = DiskBuffer.Open(settings.BufferDirectory, settings.MaxBufferBytes);
        _nextSequence = _disk.NextSequence;
        var (segments, bytes) = _disk.Size;
        if (segments > 0)
        {
            LogBacklogFound(segments, bytes, _disk.SlotDirectory, _writer.Target);
        }
    }

    public SinkStatus Status
    {
        get
        {
            int pending;
            lock (_sync)
            {
                pending = _pending.Count;
            }
            var (segments, bytes) = _disk.Size;
            return new SinkStatus(
                Interlocked.Read(ref _written),
                Interlocked.Read(ref _delivered),
                Interlocked.Read(ref _quarantined),
                Interlocked.Read(ref _dropped),
                pending,
                segments,
                bytes,
                _backendReachable);
        }
    }

    internal string BufferSlotDirectory => _disk.SlotDirectory;

    /// <summary>Starts the flush loop; the disk backlog left by a previous run goes out first.</summary>
    public void Start()
    {
        lock (_sync)
        {
            if (_loop is not null || _stopped)
            {
                return;
            }
            _loopStop = new CancellationTokenSource();
            _loop = Task.Run(() => RunLoopAsync(_loopStop.Token));
        }
    }

    public void Write(PointData point)
    {
        ArgumentNullException.ThrowIfNull(point);
        var line = point.ToLineProtocol();
        if (string.IsNullOrEmpty(line))
        {
            Interlocked.Increment(ref _dropped);
            LogUnstorablePoint();
            return;
        }
        Interlocked.Increment(ref _written);
        lock (_sync)
        {
            _pending.Add(line);
            if (_stopped || _pending.Count >= _settings.MaxPendingPoints)
            {
                // The loop is behind (slow or absent database) or gone: memory stays bounded, the disk takes it.
                SpillLocked();
            }
            else if (_pending.Count >= _settings.BatchSize && !InBackoff)
            {
                _wake.TrySetResult();
            }
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _retryAt = DateTimeOffset.MinValue; // an explicit flush tries now, whatever the backoff says
            await PumpAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Graceful stop: ends the loop, sends what it can within the shutdown timeout and leaves the rest in
    /// the disk buffer for the next start. Idempotent.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        Task? loop;
        lock (_sync)
        {
            if (_stopped)
            {
                return;
            }
            _stopped = true;
            loop = _loop;
        }
        if (loop is not null)
        {
            await _loopStop!.CancelAsync().ConfigureAwait(false);
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        using var deadline = new CancellationTokenSource(_settings.ShutdownTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _retryAt = DateTimeOffset.MinValue;
            await PumpAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            lock (_sync)
            {
                // Anything still in memory (shutdown cut short) must survive the restart.
                SpillLocked();
            }
            _gate.Release();
        }
        var (segments, bytes) = _disk.Size;
        if (segments > 0)
        {
            LogBacklogLeft(segments, bytes, _disk.SlotDirectory);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await StopAsync().ConfigureAwait(false);
        _loopStop?.Dispose();
        _disk.Dispose();
        await _writer.DisposeAsync().ConfigureAwait(false);
    }

    private bool InBackoff => _time.GetUtcNow() < _retryAt;

    private async Task RunLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _gate.WaitAsync(stop).ConfigureAwait(false);
                try
                {
                    await PumpAsync(stop).ConfigureAwait(false);
                }
                finally
                {
                    _gate.Release();
                }
                await WaitForWorkAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The loop must outlive any surprise (full disk, a backend bug): log and go on.
                LogLoopError(ex);
                await Task.Delay(_settings.FlushInterval, _time, stop).ConfigureAwait(false);
            }
        }
    }

    private async Task WaitForWorkAsync(CancellationToken stop)
    {
        Task wake;
        lock (_sync)
        {
            if (_wake.Task.IsCompleted)
            {
                _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            if (_pending.Count >= _settings.BatchSize && !InBackoff)
            {
                return;
            }
            wake = _wake.Task;
        }
        var wait = _settings.FlushInterval;
        var untilRetry = _retryAt - _time.GetUtcNow();
        if (untilRetry > TimeSpan.Zero && untilRetry < wait)
        {
            wait = untilRetry;
        }
        using var cancelDelay = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var delay = Task.Delay(wait, _time, cancelDelay.Token);
        await Task.WhenAny(wake, delay).ConfigureAwait(false);
        await cancelDelay.CancelAsync().ConfigureAwait(false);
        stop.ThrowIfCancellationRequested();
    }

    /// <summary>Moves memory to the backend (or behind the backlog on disk), then drains the disk oldest first.</summary>
    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            List<string> batch;
            long sequence;
            bool behindBacklog;
            lock (_sync)
            {
                if (_pending.Count == 0)
                {
                    break;
                }
                // Checked under the lock, after any spill that happened before: nothing may overtake the disk.
                behindBacklog = !_disk.IsEmpty || InBackoff;
                if (behindBacklog || _pending.Count <= _settings.BatchSize)
                {
                    batch = _pending;
                    _pending = new List<string>(Math.Min(_settings.BatchSize, 1024));
                }
                else
                {
                    batch = _pending.GetRange(0, _settings.BatchSize);
                    _pending.RemoveRange(0, _settings.BatchSize);
                }
                sequence = _nextSequence++;
            }
            if (behindBacklog)
            {
                PersistOrDrop(sequence, batch);
                continue;
            }
            var outcome = await SendAsync(batch, cancellationToken).ConfigureAwait(false);
            if (outcome == WriteOutcomeKind.Retry)
            {
                PersistOrDrop(sequence, batch);
            }
        }

        if (InBackoff)
        {
            return;
        }
        while (_disk.TryPeekOldest(out var segment))
        {
            if (_headSequence != segment.Sequence || _headLines is null)
            {
                _headLines = DiskBuffer.ReadLines(segment);
                _headSequence = segment.Sequence;
                _headOffset = 0;
            }
            while (_headOffset < _headLines.Length)
            {
                var count = Math.Min(_settings.BatchSize, _headLines.Length - _headOffset);
                var chunk = new ArraySegment<string>(_headLines, _headOffset, count);
                var outcome = await SendAsync(chunk, cancellationToken).ConfigureAwait(false);
                if (outcome == WriteOutcomeKind.Retry)
                {
                    return;
                }
                _headOffset += count;
            }
            _disk.Remove(segment);
            _headLines = null;
            _headSequence = -1;
        }
    }

    private async Task<WriteOutcomeKind> SendAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        WriteOutcome outcome;
        try
        {
            outcome = await _writer.WriteAsync(lines, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping mid-request: whether the server stored it is unknown, so keep it (a resend is harmless).
            outcome = WriteOutcome.Retry($"{_writer.Target}: request cancelled by shutdown");
            EnterBackoff(outcome.Message, log: false);
            return WriteOutcomeKind.Retry;
        }
        catch (Exception ex)
        {
            outcome = WriteOutcome.Retry($"{_writer.Target}: {ex.GetType().Name}: {ex.Message}");
        }
        switch (outcome.Kind)
        {
            case WriteOutcomeKind.Ok:
                Interlocked.Add(ref _delivered, lines.Count);
                if (!_backendReachable)
                {
                    _backendReachable = true;
                    LogBackendBack(_writer.Target);
                }
                _retryDelay = FirstRetryDelay;
                _retryAt = DateTimeOffset.MinValue;
                break;
            case WriteOutcomeKind.Reject:
                Quarantine(lines, outcome.Message);
                break;
            default:
                EnterBackoff(outcome.Message, log: true);
                break;
        }
        return outcome.Kind;
    }

    private void EnterBackoff(string message, bool log)
    {
        if (_backendReachable && log)
        {
            LogBackendDown(message, _disk.SlotDirectory);
        }
        _backendReachable = !log && _backendReachable;
        _retryAt = _time.GetUtcNow() + _retryDelay;
        _retryDelay = TimeSpan.FromTicks(Math.Min(_retryDelay.Ticks * 2, _settings.MaxRetryDelay.Ticks));
    }

    private void Quarantine(IReadOnlyList<string> lines, string reason)
    {
        Interlocked.Add(ref _quarantined, lines.Count);
        var dir = _disk.QuarantineDirectory;
        var path = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture,
            $"{_time.GetUtcNow():yyyyMMdd'T'HHmmssfffffff}-{Environment.ProcessId}.lp"));
        try
        {
            Directory.CreateDirectory(dir);
            using var file = new StreamWriter(path, append: true) { NewLine = "\n" };
            // Line protocol treats '#' lines as comments, so the reason travels with the data.
            file.WriteLine("# rejected: " + reason.ReplaceLineEndings(" "));
            foreach (var line in lines)
            {
                file.WriteLine(line);
            }
            LogQuarantined(lines.Count, reason, path);
        }
        catch (IOException ex)
        {
            LogQuarantineFailed(lines.Count, reason, path, ex.Message);
        }
    }

    private void PersistOrDrop(long sequence, List<string> batch)
    {
        try
        {
            var evicted = _disk.Persist(sequence, batch);
            if (evicted > 0)
            {
                Interlocked.Add(ref _dropped, evicted);
                LogEvicted(evicted, _disk.SlotDirectory, _settings.MaxBufferBytes);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Interlocked.Add(ref _dropped, batch.Count);
            LogPersistFailed(batch.Count, _disk.SlotDirectory, ex.Message);
        }
    }

    private void SpillLocked()
    {
        if (_pending.Count == 0)
        {
            return;
        }
        var batch = _pending;
        _pending = [];
        PersistOrDrop(_nextSequence++, batch);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage: a point without any storable field (none, or only NaN/Infinity) was dropped")]
    private partial void LogUnstorablePoint();

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage: {Segments} buffered segments ({Bytes} bytes) found in {Directory}; replaying them to {Target} before new points")]
    private partial void LogBacklogFound(int segments, long bytes, string directory, string target);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage: {Segments} segments ({Bytes} bytes) left in {Directory}; they are replayed at the next start")]
    private partial void LogBacklogLeft(int segments, long bytes, string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage: cannot deliver ({Reason}); buffering points on disk in {Directory} until it is back")]
    private partial void LogBackendDown(string reason, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage: {Target} is reachable again; replaying the disk buffer")]
    private partial void LogBackendBack(string target);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage: {Count} points rejected as bad data ({Reason}); kept in {Path}, not retried")]
    private partial void LogQuarantined(int count, string reason, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage: {Count} points rejected ({Reason}) and could not be written to {Path}: {Error}")]
    private partial void LogQuarantineFailed(int count, string reason, string path, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage: disk buffer {Directory} exceeded Storage:MaxBufferBytes={MaxBytes}; dropped the {Count} oldest points")]
    private partial void LogEvicted(long count, string directory, long maxBytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage: could not persist {Count} points to the disk buffer {Directory}: {Error}; they are lost")]
    private partial void LogPersistFailed(int count, string directory, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage: flush loop error; retrying")]
    private partial void LogLoopError(Exception ex);
}
