namespace Seccm.Glovebox.Alarms;

/// <summary>Alarm level of one quantity. <see cref="Unknown"/>: no valid reading yet, or the sensor went silent.</summary>
public enum AlarmLevel
{
    Unknown,
    Ok,
    Warning,
    Alarm,
}

/// <summary>
/// Thresholds of one quantity (in its own unit: ppm for O2, C of dew point for H2O). A level is entered above its
/// threshold and left only below threshold minus <see cref="Hysteresis"/>; any change must persist for
/// <see cref="HoldTime"/> before it counts, so sensor noise around a threshold does not flap the state.
/// </summary>
public sealed record AlarmThresholds(double WarningAbove, double AlarmAbove, double Hysteresis, TimeSpan HoldTime, TimeSpan StaleAfter)
{
    /// <summary>PHYSICS.md: O2 warn at 5 ppm, alarm at 10 ppm.</summary>
    public static AlarmThresholds O2Default { get; } = new(5, 10, 1, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(15));

    /// <summary>PHYSICS.md: H2O dew point good below -70 C, alarm above -60 C.</summary>
    public static AlarmThresholds DewPointDefault { get; } = new(-70, -60, 2, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(15));

    /// <summary>Problems with these thresholds, phrased for the configuration key <paramref name="where"/>; empty when valid.</summary>
    public IEnumerable<string> Validate(string where)
    {
        if (!double.IsFinite(WarningAbove) || !double.IsFinite(AlarmAbove) || !(AlarmAbove > WarningAbove))
        {
            yield return $"{where}: AlarmAbove ({AlarmAbove}) must be above WarningAbove ({WarningAbove}).";
        }
        if (!(Hysteresis >= 0) || !double.IsFinite(Hysteresis))
        {
            yield return $"{where}: Hysteresis ({Hysteresis}) must be zero or positive.";
        }
        if (HoldTime < TimeSpan.Zero)
        {
            yield return $"{where}: HoldTime ({HoldTime}) cannot be negative.";
        }
        if (StaleAfter <= TimeSpan.Zero)
        {
            yield return $"{where}: StaleAfter ({StaleAfter}) must be positive.";
        }
    }
}

/// <summary>A committed change of alarm level.</summary>
public sealed record AlarmChange(string Quantity, AlarmLevel From, AlarmLevel To, double? Value, DateTimeOffset At);

/// <summary>The alarm state machine of one quantity (hysteresis, hold time, stale readings).</summary>
public sealed class AlarmMonitor
{
    private readonly AlarmThresholds _thresholds;
    private readonly TimeProvider _time;
    private AlarmLevel? _pending;
    private DateTimeOffset _pendingSince;
    private DateTimeOffset? _lastGood;

    public AlarmMonitor(string quantity, AlarmThresholds thresholds, TimeProvider time)
    {
        var problems = thresholds.Validate(quantity).ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(thresholds));
        }
        Quantity = quantity;
        _thresholds = thresholds;
        _time = time;
    }

    public string Quantity { get; }

    public AlarmLevel Level { get; private set; } = AlarmLevel.Unknown;

    public double? LastValue { get; private set; }

    /// <summary>Feeds one reading; returns the change when the level changed.</summary>
    public AlarmChange? Update(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"{Quantity}: a reading must be a finite number.");
        }
        var now = _time.GetUtcNow();
        _lastGood = now;
        LastValue = value;
        var target = Classify(value);
        if (Level == AlarmLevel.Unknown)
        {
            // Nothing to be noisy about yet: the first reading after start or a sensor outage counts at once.
            return Commit(target, value, now);
        }
        if (target == Level)
        {
            _pending = null;
            return null;
        }
        // A swing from (say) warning on to alarm keeps the clock running: the value has been away from the committed level since then.
        var sameDirection = _pending is { } p && (p > Level) == (target > Level);
        if (!sameDirection)
        {
            _pendingSince = now;
        }
        _pending = target;
        return now - _pendingSince >= _thresholds.HoldTime ? Commit(target, value, now) : null;
    }

    /// <summary>A read failed; after <see cref="AlarmThresholds.StaleAfter"/> without a good reading the level becomes Unknown.</summary>
    public AlarmChange? ReportFailure()
    {
        var now = _time.GetUtcNow();
        _lastGood ??= now;
        if (Level != AlarmLevel.Unknown && now - _lastGood.Value >= _thresholds.StaleAfter)
        {
            LastValue = null;
            return Commit(AlarmLevel.Unknown, null, now);
        }
        return null;
    }

    private AlarmLevel Classify(double value)
    {
        var t = _thresholds;
        if (value > t.AlarmAbove || (Level == AlarmLevel.Alarm && value > t.AlarmAbove - t.Hysteresis))
        {
            return AlarmLevel.Alarm;
        }
        if (value > t.WarningAbove || (Level >= AlarmLevel.Warning && value > t.WarningAbove - t.Hysteresis))
        {
            return AlarmLevel.Warning;
        }
        return AlarmLevel.Ok;
    }

    private AlarmChange Commit(AlarmLevel to, double? value, DateTimeOffset now)
    {
        var change = new AlarmChange(Quantity, Level, to, value, now);
        Level = to;
        _pending = null;
        return change;
    }
}
