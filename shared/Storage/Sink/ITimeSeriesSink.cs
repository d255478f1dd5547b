using InfluxDB.Client.Writes;

namespace Seccm.Storage;

/// <summary>
/// Where every service writes its time series. <see cref="Write"/> only queues: it never waits for the
/// database and never throws because the database is away; points go out in batches, and while the
/// database is unreachable they wait in a bounded disk buffer and are replayed in order when it is back.
/// </summary>
/// <remarks>
/// InfluxDB keeps one point per series and timestamp: two points with the same measurement, tag set and
/// nanosecond timestamp overwrite each other. Writers must give distinct points distinct timestamps.
/// </remarks>
public interface ITimeSeriesSink
{
    /// <summary>Queues one point; build it with <see cref="Points.New(string, string, string, DateTimeOffset, string?, string?)"/> so it carries the standard tags.</summary>
    void Write(PointData point);

    /// <summary>
    /// Sends everything written so far, including the disk backlog. If the database is unreachable the
    /// rest stays in the disk buffer (check <see cref="Status"/>); this does not throw for an outage.
    /// </summary>
    Task FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>Counters for health checks and tests.</summary>
    SinkStatus Status { get; }
}

/// <summary>What the sink has done so far and what it still holds.</summary>
/// <param name="PointsWritten">Points accepted by <see cref="ITimeSeriesSink.Write"/>.</param>
/// <param name="PointsDelivered">Points the backend acknowledged.</param>
/// <param name="PointsQuarantined">Points the backend rejected as bad data (kept in the quarantine folder).</param>
/// <param name="PointsDropped">Points lost: unstorable (no valid field) or evicted from a full disk buffer.</param>
/// <param name="PendingPoints">Points in memory waiting for the next batch.</param>
/// <param name="BufferedSegments">Segment files in the disk buffer.</param>
/// <param name="BufferedBytes">Bytes in the disk buffer.</param>
/// <param name="BackendReachable">False after a failed delivery until the next successful one.</param>
public readonly record struct SinkStatus(
    long PointsWritten,
    long PointsDelivered,
    long PointsQuarantined,
    long PointsDropped,
    int PendingPoints,
    int BufferedSegments,
    long BufferedBytes,
    bool BackendReachable);
