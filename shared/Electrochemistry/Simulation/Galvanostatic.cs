namespace Seccm.Electrochemistry.Simulation;

/// <summary>
/// Constant-current cycling between potential cut-offs: charge (anodic, +|I|) to the upper cut-off, then
/// discharge (-|I|) to the lower one, <paramref name="Cycles"/> times, starting at rest at the lower cut-off.
/// <paramref name="MaxHalfCycleS"/> stops a half-cycle that never reaches its cut-off.
/// <paramref name="DischargeCurrentA"/> (magnitude) discharges at another current than the charge (null: the same).
/// </summary>
public sealed record GalvanostaticProtocol(double CurrentA, double LowerCutoffV, double UpperCutoffV, double IntervalS, int Cycles = 1, double MaxHalfCycleS = 1e5,
    double? DischargeCurrentA = null)
{
    internal void Validate()
    {
        if (!(CurrentA > 0) || !double.IsFinite(CurrentA)) throw new ArgumentOutOfRangeException(nameof(CurrentA), CurrentA, "current magnitude must be > 0 A");
        if (DischargeCurrentA is { } d && (!(d > 0) || !double.IsFinite(d))) throw new ArgumentOutOfRangeException(nameof(DischargeCurrentA), d, "discharge current magnitude must be > 0 A");
        if (!(UpperCutoffV > LowerCutoffV)) throw new ArgumentException($"upper cut-off {UpperCutoffV} V must lie above the lower {LowerCutoffV} V", nameof(UpperCutoffV));
        if (!(IntervalS > 0)) throw new ArgumentOutOfRangeException(nameof(IntervalS), IntervalS, "interval must be > 0 s");
        if (Cycles < 1) throw new ArgumentOutOfRangeException(nameof(Cycles), Cycles, "cycles must be >= 1");
        if (!(MaxHalfCycleS > IntervalS)) throw new ArgumentOutOfRangeException(nameof(MaxHalfCycleS), MaxHalfCycleS, "max half-cycle time must exceed the interval");
    }
}

/// <summary>A charge/discharge record: samples plus the charge passed in each half-cycle (C; charge first).</summary>
public sealed record ChargeDischargeResult(double[] TimeS, double[] PotentialV, double[] CurrentA, double[] HalfCycleChargeC, int[] HalfCycleIndex)
{
    /// <summary>C to uAh.</summary>
    public static double MicroAmpHours(double charge) => charge / 3.6e-3;
}

/// <summary>Chronopotentiometry on the same implicit engine as the CV simulator.</summary>
public static class ChargeDischargeSimulator
{
    /// <summary>Theoretical capacity of the wetted film: n F C A L (C), for each couple summed.</summary>
    public static double FilmCapacityC(Electrode electrode)
    {
        ArgumentNullException.ThrowIfNull(electrode);
        if (double.IsPositiveInfinity(electrode.FilmThicknessCm)) return double.PositiveInfinity;
        return electrode.Couples.Sum(c => c.N * PhysicalConstants.FaradayCPerMol * c.ConcentrationMolCm3) * electrode.AreaCm2 * electrode.FilmThicknessCm;
    }

    public static ChargeDischargeResult Run(Electrode electrode, GalvanostaticProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(electrode);
        ArgumentNullException.ThrowIfNull(protocol);
        electrode.Validate();
        protocol.Validate();
        var cell = new GalvanostaticCell(electrode, protocol.LowerCutoffV, protocol.IntervalS, protocol.MaxHalfCycleS * 2 * protocol.Cycles);
        var time = new List<double> { 0 };
        var potential = new List<double> { protocol.LowerCutoffV };
        var current = new List<double> { 0 };
        var half = new List<int> { 0 };
        var charges = new List<double>();
        double t = 0;
        for (int h = 0; h < 2 * protocol.Cycles; h++)
        {
            double i = h % 2 == 0 ? protocol.CurrentA : -(protocol.DischargeCurrentA ?? protocol.CurrentA);
            double q = 0, elapsed = 0;
            while (elapsed < protocol.MaxHalfCycleS)
            {
                var (e, measuredA) = cell.Step(protocol.IntervalS, i);
                t += protocol.IntervalS;
                elapsed += protocol.IntervalS;
                q += Math.Abs(i) * protocol.IntervalS;
                time.Add(t);
                potential.Add(e);
                current.Add(measuredA);
                half.Add(h);
                if (i > 0 ? e >= protocol.UpperCutoffV : e <= protocol.LowerCutoffV) break;
            }
            charges.Add(q);
        }
        return new ChargeDischargeResult([.. time], [.. potential], [.. current], [.. charges], [.. half]);
    }
}

/// <summary>
/// A film under constant current, one sample at a time, for callers that decide themselves when a half-cycle ends
/// (a device emulator running a script's cut-off conditions). <see cref="ChargeDischargeSimulator.Run"/> steps the same
/// cell, so both give the same record for the same steps.
/// </summary>
public sealed class GalvanostaticCell
{
    private readonly CvSimulator.Engine _engine;
    private readonly Electrode _electrode;
    private readonly GaussianNoise? _noise;

    /// <param name="electrode">The wetted film.</param>
    /// <param name="restPotentialV">The film starts at rest, equilibrated at this potential.</param>
    /// <param name="shortestStepS">The shortest step that will be taken (sets the grid near the surface).</param>
    /// <param name="longestRunS">The longest total time that will be stepped (sets the grid depth).</param>
    public GalvanostaticCell(Electrode electrode, double restPotentialV, double shortestStepS, double longestRunS)
    {
        ArgumentNullException.ThrowIfNull(electrode);
        electrode.Validate();
        if (!(shortestStepS > 0) || !(longestRunS >= shortestStepS))
        {
            throw new ArgumentOutOfRangeException(nameof(longestRunS), longestRunS, $"need 0 < shortest step ({shortestStepS} s) <= longest run");
        }
        _electrode = electrode;
        _engine = new CvSimulator.Engine(electrode, shortestStepS, longestRunS);
        _engine.Equilibrate(restPotentialV);
        _noise = electrode.NoiseRmsA > 0 ? new GaussianNoise(electrode.NoiseSeed) : null;
    }

    /// <summary>Passes <paramref name="currentA"/> (anodic +) for <paramref name="dtS"/>; returns the potential (with iR) and the measured current.</summary>
    public (double PotentialV, double CurrentA) Step(double dtS, double currentA)
    {
        var potentialV = _engine.StepGalvanostatic(dtS, currentA) + currentA * _electrode.UncompensatedOhm;
        return (potentialV, currentA + (_noise is null ? 0 : _electrode.NoiseRmsA * _noise.Next()));
    }
}
