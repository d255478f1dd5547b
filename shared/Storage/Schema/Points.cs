using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Writes;

namespace Seccm.Storage;

/// <summary>Measurement names of the schema (SCHEMA.md beside this project).</summary>
public static class Measurements
{
    public const string Stage = "stage";
    public const string PotentiostatSample = "potentiostat_sample";
    public const string CvPeak = "cv_peak";
    public const string PixelResult = "pixel_result";
    public const string Glovebox = "glovebox";
    public const string ScanProgress = "scan_progress";
    public const string ServiceStatus = "service_status";
    public const string Alarm = "alarm";
    public const string Approach = "approach";
}

/// <summary>The only tags of the schema: low cardinality. Coordinates, currents and ids of pixels are fields.</summary>
public static class TagNames
{
    public const string Instrument = "instrument";
    public const string Service = "service";
    public const string ScanId = "scan_id";
    public const string Technique = "technique";
    public const string Alarm = "alarm";
}

/// <summary>Builds points with the standard tags and a nanosecond timestamp, so every service writes the same shape.</summary>
public static class Points
{
    /// <summary>
    /// A point of <paramref name="measurement"/> tagged instrument/service (and scan_id/technique when given).
    /// Add fields with units in their names (<c>.Field("x_um", x)</c>). Distinct points of one series need
    /// distinct <paramref name="timestamp"/>s: InfluxDB keeps only the last point per series and timestamp.
    /// </summary>
    public static PointData New(string measurement, string instrument, string service, DateTimeOffset timestamp,
        string? scanId = null, string? technique = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(measurement);
        ArgumentException.ThrowIfNullOrWhiteSpace(instrument);
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        var point = PointData.Measurement(measurement)
            .Tag(TagNames.Instrument, instrument)
            .Tag(TagNames.Service, service);
        if (!string.IsNullOrWhiteSpace(scanId))
        {
            point = point.Tag(TagNames.ScanId, scanId);
        }
        if (!string.IsNullOrWhiteSpace(technique))
        {
            point = point.Tag(TagNames.Technique, technique);
        }
        return point.Timestamp(ToUnixNanoseconds(timestamp), WritePrecision.Ns);
    }

    /// <summary>Nanoseconds since the Unix epoch (DateTimeOffset resolves 100 ns).</summary>
    public static long ToUnixNanoseconds(DateTimeOffset timestamp) =>
        (timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
}
