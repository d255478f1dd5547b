namespace Seccm.Potentiostat.Drivers;

/// <summary>Where the pipette tip is, in stage coordinates (Z larger = further from the sample).</summary>
public readonly record struct PipettePosition(double XUm, double YUm, double ZUm);

/// <summary>The latest known pipette position: the stage's position telemetry in the service, a fixed value in tests.</summary>
public interface IPipettePositionSource
{
    /// <summary>Null until a position is known; the simulated cell then counts the pipette as retracted.</summary>
    PipettePosition? Latest { get; }
}

/// <summary>A position source that holds whatever it was last told (telemetry handler, tests).</summary>
public sealed class PipettePositionTracker : IPipettePositionSource
{
    private PipettePosition? _latest;

    public PipettePosition? Latest
    {
        get => _latest;
        set => _latest = value;
    }
}
