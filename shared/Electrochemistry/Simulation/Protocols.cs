namespace Seccm.Electrochemistry.Simulation;

/// <summary>
/// Cyclic voltammetry as a potentiostat runs it: start -> vertex 1 -> vertex 2 -> start, repeated
/// <paramref name="Cycles"/> times, sampled every <paramref name="StepV"/>.
/// </summary>
public sealed record CvProtocol(double StartV, double Vertex1V, double Vertex2V, double StepV, double ScanRateVPerS, int Cycles = 1)
{
    /// <summary>Time between samples.</summary>
    public double SampleIntervalS => StepV / ScanRateVPerS;

    internal double DurationS => Cycles * (Math.Abs(Vertex1V - StartV) + Math.Abs(Vertex2V - Vertex1V) + Math.Abs(StartV - Vertex2V)) / ScanRateVPerS;

    /// <summary>Applied potential at time t (piecewise linear).</summary>
    internal double PotentialAt(double timeS)
    {
        double travelled = timeS * ScanRateVPerS;
        double cycleLength = Math.Abs(Vertex1V - StartV) + Math.Abs(Vertex2V - Vertex1V) + Math.Abs(StartV - Vertex2V);
        if (cycleLength == 0) return StartV;
        int cycle = (int)Math.Floor(travelled / cycleLength);
        if (cycle >= Cycles) return StartV;
        double s = travelled - cycle * cycleLength;
        Span<double> points = [StartV, Vertex1V, Vertex2V, StartV];
        for (int i = 0; i < 3; i++)
        {
            double len = Math.Abs(points[i + 1] - points[i]);
            if (s <= len) return points[i] + Math.Sign(points[i + 1] - points[i]) * s;
            s -= len;
        }
        return StartV;
    }

    internal void Validate()
    {
        if (!(StepV > 0)) throw new ArgumentOutOfRangeException(nameof(StepV), StepV, "step must be > 0 V");
        if (!(ScanRateVPerS > 0)) throw new ArgumentOutOfRangeException(nameof(ScanRateVPerS), ScanRateVPerS, "scan rate must be > 0 V/s");
        if (Cycles < 1) throw new ArgumentOutOfRangeException(nameof(Cycles), Cycles, "cycles must be >= 1");
        if (Vertex1V == StartV) throw new ArgumentException("vertex 1 must differ from the start potential", nameof(Vertex1V));
        if (!double.IsFinite(StartV) || !double.IsFinite(Vertex1V) || !double.IsFinite(Vertex2V)) throw new ArgumentException("potentials must be finite");
    }
}

/// <summary>Chronoamperometry: rest at <paramref name="RestV"/> (equilibrium), step to <paramref name="HoldV"/> at t = 0.</summary>
public sealed record HoldProtocol(double RestV, double HoldV, double DurationS, double IntervalS)
{
    /// <summary>
    /// A hold on a spot the droplet has just wetted: the spot was never polarised, so its surface is wholly in the state
    /// the hold converts from (300 mV past E0 of its first couple, on the far side from <paramref name="holdV"/>) and
    /// contact gives the full Cottrell jump. An electrode without couples rests at the hold potential.
    /// </summary>
    public static HoldProtocol OnFreshSpot(Electrode electrode, double holdV, double durationS, double intervalS)
    {
        ArgumentNullException.ThrowIfNull(electrode);
        var rest = electrode.Couples.Count > 0
            ? electrode.Couples[0].E0V + (holdV < electrode.Couples[0].E0V ? 0.3 : -0.3)
            : holdV;
        return new HoldProtocol(rest, holdV, durationS, intervalS);
    }

    internal void Validate()
    {
        if (!(DurationS > 0)) throw new ArgumentOutOfRangeException(nameof(DurationS), DurationS, "duration must be > 0 s");
        if (!(IntervalS > 0 && IntervalS <= DurationS)) throw new ArgumentOutOfRangeException(nameof(IntervalS), IntervalS, "interval must be > 0 s and <= duration");
    }
}

/// <summary>A simulated measurement: one sample per index, anodic current positive.</summary>
public sealed record SimulatedCurve(double[] TimeS, double[] PotentialV, double[] CurrentA, double[] FaradaicCurrentA)
{
    public int Count => TimeS.Length;
}
