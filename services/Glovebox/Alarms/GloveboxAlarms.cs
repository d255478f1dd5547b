namespace Seccm.Glovebox.Alarms;

/// <summary>
/// The glovebox's alarm states: O2 (ppm) and H2O (dew point, C). Scanning is safe when both are known and
/// neither is in alarm; a warning still allows it.
/// </summary>
public sealed class GloveboxAlarms(AlarmThresholds o2, AlarmThresholds dewPoint, TimeProvider time)
{
    public const string O2Quantity = "o2";
    public const string H2oQuantity = "h2o";

    public GloveboxAlarms(TimeProvider time)
        : this(AlarmThresholds.O2Default, AlarmThresholds.DewPointDefault, time)
    {
    }

    public AlarmMonitor O2 { get; } = new(O2Quantity, o2, time);

    public AlarmMonitor H2o { get; } = new(H2oQuantity, dewPoint, time);

    public bool SafeToScan => IsSafe(O2.Level) && IsSafe(H2o.Level);

    /// <summary>Raised on every committed level change, on the thread that fed the reading.</summary>
    public event Action<AlarmChange>? Changed;

    /// <summary>Feeds the worst O2 reading of a poll, or null when every O2 sensor failed.</summary>
    public void UpdateO2(double? o2Ppm) => Raise(o2Ppm is { } v ? O2.Update(v) : O2.ReportFailure());

    /// <summary>Feeds the worst dew point of a poll, or null when every moisture sensor failed.</summary>
    public void UpdateDewPoint(double? dewPointC) => Raise(dewPointC is { } v ? H2o.Update(v) : H2o.ReportFailure());

    private static bool IsSafe(AlarmLevel level) => level is AlarmLevel.Ok or AlarmLevel.Warning;

    private void Raise(AlarmChange? change)
    {
        if (change is not null)
        {
            Changed?.Invoke(change);
        }
    }
}
