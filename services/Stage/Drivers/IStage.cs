namespace Seccm.Stage.Drivers;

/// <summary>The three piezo axes. Z is the pipette height: larger Z is further from the sample, an approach lowers Z.</summary>
public enum StageAxis
{
    X,
    Y,
    Z,
}

/// <summary>A stage position in micrometres.</summary>
public readonly record struct StagePosition(double XUm, double YUm, double ZUm)
{
    public double this[StageAxis axis] => axis switch
    {
        StageAxis.X => XUm,
        StageAxis.Y => YUm,
        StageAxis.Z => ZUm,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "Unknown axis."),
    };
}

/// <summary>A move target: axes left null keep their current target.</summary>
public readonly record struct StageTarget(double? XUm = null, double? YUm = null, double? ZUm = null)
{
    public double? this[StageAxis axis] => axis switch
    {
        StageAxis.X => XUm,
        StageAxis.Y => YUm,
        StageAxis.Z => ZUm,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "Unknown axis."),
    };

    public static StageTarget Of(StageAxis axis, double um) => axis switch
    {
        StageAxis.X => new StageTarget(XUm: um),
        StageAxis.Y => new StageTarget(YUm: um),
        StageAxis.Z => new StageTarget(ZUm: um),
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "Unknown axis."),
    };
}

/// <summary>Closed travel range of one axis in micrometres.</summary>
public readonly record struct AxisRange(double MinUm, double MaxUm)
{
    public bool Contains(double um) => um >= MinUm && um <= MaxUm;
}

/// <summary>Travel limits of the three axes.</summary>
public sealed record StageLimits(AxisRange X, AxisRange Y, AxisRange Z)
{
    public AxisRange this[StageAxis axis] => axis switch
    {
        StageAxis.X => X,
        StageAxis.Y => Y,
        StageAxis.Z => Z,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "Unknown axis."),
    };

    /// <summary>Null when every given coordinate is inside its range, otherwise a message naming the first axis that is not.</summary>
    public string? Check(StageTarget target)
    {
        foreach (var axis in Enum.GetValues<StageAxis>())
        {
            if (target[axis] is { } um)
            {
                var range = this[axis];
                if (double.IsNaN(um) || !range.Contains(um))
                {
                    return FormattableString.Invariant(
                        $"{axis} = {um} um is outside the travel range [{range.MinUm}, {range.MaxUm}] um.");
                }
            }
        }
        return null;
    }
}

/// <summary>
/// A closed-loop XYZ piezo stage. Moves return as soon as the controller accepted them; poll
/// <see cref="IsOnTargetAsync"/> or <see cref="GetPositionAsync"/> to follow the motion.
/// </summary>
public interface IStage : IAsyncDisposable
{
    /// <summary>Driver and port, for status messages and errors.</summary>
    string Name { get; }

    /// <summary>Switches closed-loop servo on or off on every axis. Moves need the servo on.</summary>
    Task SetServoAsync(bool on, CancellationToken cancellationToken);

    /// <summary>Starts an absolute move. Throws before anything moves when a coordinate is outside the travel limits.</summary>
    Task MoveAbsoluteAsync(StageTarget target, CancellationToken cancellationToken);

    /// <summary>Starts a relative move of the current targets by the given steps.</summary>
    Task MoveRelativeAsync(StageTarget deltaUm, CancellationToken cancellationToken);

    /// <summary>The measured position now (also while moving).</summary>
    Task<StagePosition> GetPositionAsync(CancellationToken cancellationToken);

    /// <summary>True when every axis has reached and settled on its target.</summary>
    Task<bool> IsOnTargetAsync(CancellationToken cancellationToken);

    /// <summary>Sets the closed-loop velocity of one axis in um/s.</summary>
    Task SetVelocityAsync(StageAxis axis, double velocityUmPerS, CancellationToken cancellationToken);

    /// <summary>The closed-loop velocity of one axis in um/s.</summary>
    Task<double> GetVelocityAsync(StageAxis axis, CancellationToken cancellationToken);

    /// <summary>Stops every axis at once where it is; the target becomes the current position.</summary>
    Task StopAsync(CancellationToken cancellationToken);

    /// <summary>The travel limits of the three axes.</summary>
    Task<StageLimits> GetLimitsAsync(CancellationToken cancellationToken);
}

/// <summary>The stage refused a command (servo off, out of range, bad velocity). Nothing moved.</summary>
public sealed class StageCommandException(string message) : Seccm.Devices.DeviceException(message);
