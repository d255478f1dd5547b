using Seccm.Contracts.Messages;
using Seccm.Contracts.Topics;
using Seccm.Storage;

namespace Seccm.Scan.Interlocks;

/// <summary>
/// Writes the services' retained status (online or the last will's offline) as the <c>service_status</c> time series,
/// on every change and again periodically, so the facility display and the "service offline" alert have data for
/// any time range. The scan service records it because it watches every status anyway for its interlocks.
/// </summary>
internal sealed class StatusRecorder(ITimeSeriesSink sink, string instrument, TimeProvider time)
{
    private readonly Dictionary<string, ServiceStatus> _last = [];
    private readonly Lock _gate = new();

    public void Record(ServiceStatus status)
    {
        lock (_gate)
        {
            _last[status.Service] = status;
        }
        Write(status, time.GetUtcNow());
    }

    /// <summary>Writes every known status again (called periodically).</summary>
    public void Refresh()
    {
        List<ServiceStatus> all;
        lock (_gate)
        {
            all = [.. _last.Values];
        }
        var now = time.GetUtcNow();
        foreach (var status in all)
        {
            Write(status, now);
        }
    }

    private void Write(ServiceStatus status, DateTimeOffset at)
    {
        if (!Topic.IsValidSegment(status.Service))
        {
            return;
        }
        var point = Points.New(Measurements.ServiceStatus, instrument, status.Service, at)
            .Field("online", status.IsOnline)
            .Field("state", status.State)
            .Field("version", status.Version);
        if (status.Driver is { } driver)
        {
            point = point.Field("driver", driver);
        }
        sink.Write(point);
    }
}
