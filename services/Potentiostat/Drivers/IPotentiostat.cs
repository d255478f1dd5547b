namespace Seccm.Potentiostat.Drivers;

/// <summary>
/// A potentiostat as the service sees it: techniques whose samples stream out in chunks, so a long scan never
/// sits in memory at once. One technique runs at a time; <see cref="AbortAsync"/> may be called from anywhere.
/// </summary>
public interface IPotentiostat : IAsyncDisposable
{
    /// <summary>Which device this is (port, "simulated"), used in messages.</summary>
    string Name { get; }

    /// <summary>What the device accepts; requests outside are refused before anything is sent.</summary>
    PotentiostatLimits Limits { get; }

    /// <summary>The firmware/version string of the device.</summary>
    Task<string> GetVersionAsync(CancellationToken cancellationToken);

    /// <summary>Connects (on) or disconnects (off) the cell.</summary>
    Task SetCellAsync(bool on, CancellationToken cancellationToken);

    /// <summary>
    /// Runs cyclic voltammetry at every rate of <paramref name="request"/> in turn. Ends normally when the device
    /// finished; throws <see cref="PotentiostatAbortedException"/> after <see cref="AbortAsync"/>.
    /// </summary>
    IAsyncEnumerable<SampleChunk> RunCvAsync(CvRequest request, CancellationToken cancellationToken);

    /// <summary>Holds a potential and samples the current (chronoamperometry), for a duration or until aborted.</summary>
    IAsyncEnumerable<SampleChunk> RunHoldAsync(HoldRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Galvanostatic charge/discharge: one measurement loop (rate index) per half-cycle, charge first; a half-cycle ends
    /// at its potential cut-off, the whole technique at the maximum duration.
    /// </summary>
    IAsyncEnumerable<SampleChunk> RunChargeDischargeAsync(ChargeDischargeRequest request, CancellationToken cancellationToken);

    /// <summary>Stops the running technique (if any); its enumeration then throws <see cref="PotentiostatAbortedException"/>.</summary>
    Task AbortAsync(CancellationToken cancellationToken);
}

/// <summary>
/// One CV technique: the same waveform (start, vertex 1, vertex 2, back to start) at each scan rate,
/// <see cref="Cycles"/> scans per rate; <see cref="CurrentRangeA"/> is the full-scale current the device is set to.
/// </summary>
public sealed record CvRequest(
    double StartPotentialV,
    double Vertex1PotentialV,
    double Vertex2PotentialV,
    double StepV,
    IReadOnlyList<double> ScanRatesVPerS,
    int Cycles,
    double CurrentRangeA)
{
    /// <summary>Seconds between two samples at scan rate <paramref name="scanRateVPerS"/>.</summary>
    public double IntervalS(double scanRateVPerS) => StepV / scanRateVPerS;
}

/// <summary>A potential hold (chronoamperometry). <see cref="DurationS"/> null means until aborted.</summary>
public sealed record HoldRequest(double PotentialV, double IntervalS, double? DurationS, double CurrentRangeA);

/// <summary>
/// Chronopotentiometry cycles: currents are magnitudes (charge anodic +, discharge cathodic -), cut-offs in V,
/// <see cref="MaxDurationS"/> bounds the whole technique.
/// </summary>
public sealed record ChargeDischargeRequest(
    double ChargeCurrentA,
    double DischargeCurrentA,
    double UpperCutoffV,
    double LowerCutoffV,
    int Cycles,
    double IntervalS,
    double MaxDurationS,
    double CurrentRangeA)
{
    /// <summary>Signed current of half-cycle <paramref name="halfCycle"/> (even: charge).</summary>
    public double CurrentOf(int halfCycle) => halfCycle % 2 == 0 ? Math.Abs(ChargeCurrentA) : -Math.Abs(DischargeCurrentA);
}

/// <summary>
/// Consecutive samples of one technique. <see cref="RateIndex"/> and <see cref="Cycle"/> say which curve they
/// belong to; <see cref="FirstSampleIndex"/> counts from 0 within that rate, so chunks rebuild a curve exactly.
/// Time restarts at 0 for every rate. <see cref="PipetteZUm"/>: where the pipette was for these samples, when the
/// driver knows it (the simulated cell does; a real potentiostat does not). <see cref="ContactZUm"/>: where the
/// meniscus first touched in the contact these samples were measured in (null when dry or unknown).
/// </summary>
public sealed record SampleChunk(
    int RateIndex,
    double ScanRateVPerS,
    int Cycle,
    long FirstSampleIndex,
    double[] TimeS,
    double[] PotentialV,
    double[] CurrentA,
    double? PipetteZUm = null,
    double? ContactZUm = null,
    SampleFlags Flags = SampleFlags.None)
{
    public int Count => TimeS.Length;
}

/// <summary>
/// What the device said about the samples of a chunk (any of them): MethodSCRIPT's status bits (metadata <c>1X</c>: 0x1
/// timing error, 0x2 overload, 0x4 underload, 0x8 overload warning) and a value it sent as <c>nan</c>.
/// </summary>
[Flags]
public enum SampleFlags
{
    None = 0,
    TimingError = 0x1,
    Overload = 0x2,
    Underload = 0x4,
    OverloadWarning = 0x8,
    NotANumber = 0x10,
}

public static class SampleFlagsExtensions
{
    /// <summary>Flags that make a sample's current not a valid measurement: out of range either way, or no number at all.</summary>
    public const SampleFlags Invalid = SampleFlags.Overload | SampleFlags.Underload | SampleFlags.NotANumber;

    /// <summary>The flags as names joined with '|' (e.g. "overload|nan"), null when there are none.</summary>
    public static string? ToNames(this SampleFlags flags) => Seccm.Contracts.Potentiostat.SampleFlagNames.FromBits((int)flags);
}

/// <summary>The envelope a device works in. Checked before a technique starts.</summary>
public sealed record PotentiostatLimits(
    double MinPotentialV,
    double MaxPotentialV,
    double MinScanRateVPerS,
    double MaxScanRateVPerS,
    double MinStepV,
    double MaxStepV,
    double MinIntervalS,
    int MaxCycles,
    IReadOnlyList<double> CurrentRangesA,
    bool Galvanostatic = true)
{
    /// <summary>
    /// An EmStat4 LR-class MethodSCRIPT potentiostat (the pA currents of a 55 nm pipette need its 1 nA range),
    /// and a -3 to 5 V window so the Li-ion potentials (1.5-4.3 V vs Li/Li+) fit.
    /// </summary>
    public static PotentiostatLimits MethodScriptDefault { get; } = new(
        MinPotentialV: -3.0, MaxPotentialV: 5.0,
        MinScanRateVPerS: 1e-4, MaxScanRateVPerS: 50,
        MinStepV: 1e-4, MaxStepV: 0.25,
        MinIntervalS: 1e-4, MaxCycles: 1000,
        CurrentRangesA: [1e-9, 10e-9, 100e-9, 1e-6, 10e-6, 100e-6, 1e-3]);

    /// <summary>Returns the reasons <paramref name="request"/> is refused (empty when it is fine).</summary>
    public IReadOnlyList<string> Check(CvRequest request)
    {
        var errors = new List<string>();
        CheckPotential(errors, "startPotentialV", request.StartPotentialV);
        CheckPotential(errors, "vertex1PotentialV", request.Vertex1PotentialV);
        CheckPotential(errors, "vertex2PotentialV", request.Vertex2PotentialV);
        if (!(request.StepV >= MinStepV && request.StepV <= MaxStepV))
        {
            errors.Add($"stepV {request.StepV} is outside [{MinStepV}, {MaxStepV}] V.");
        }
        if (request.ScanRatesVPerS.Count == 0)
        {
            errors.Add("scanRatesVPerS is empty: give at least one scan rate.");
        }
        for (var i = 0; i < request.ScanRatesVPerS.Count; i++)
        {
            var rate = request.ScanRatesVPerS[i];
            if (!(rate >= MinScanRateVPerS && rate <= MaxScanRateVPerS))
            {
                errors.Add($"scanRatesVPerS[{i}] {rate} is outside [{MinScanRateVPerS}, {MaxScanRateVPerS}] V/s.");
            }
            else if (request.StepV > 0 && request.IntervalS(rate) < MinIntervalS)
            {
                errors.Add($"scanRatesVPerS[{i}] {rate} with stepV {request.StepV} samples every {request.IntervalS(rate) * 1e3:0.###} ms, faster than the device's {MinIntervalS * 1e3} ms: use a larger step.");
            }
        }
        if (request.Cycles < 1 || request.Cycles > MaxCycles)
        {
            errors.Add($"cycles {request.Cycles} is outside [1, {MaxCycles}].");
        }
        if (request.Vertex1PotentialV == request.Vertex2PotentialV)
        {
            errors.Add("vertex1PotentialV equals vertex2PotentialV: the sweep would have no width.");
        }
        CheckRange(errors, request.CurrentRangeA);
        return errors;
    }

    /// <summary>Returns the reasons <paramref name="request"/> is refused (empty when it is fine).</summary>
    public IReadOnlyList<string> Check(HoldRequest request)
    {
        var errors = new List<string>();
        CheckPotential(errors, "potentialV", request.PotentialV);
        if (!(request.IntervalS >= MinIntervalS && request.IntervalS <= 3600))
        {
            errors.Add($"intervalS {request.IntervalS} is outside [{MinIntervalS}, 3600] s.");
        }
        if (request.DurationS is { } d && !(d > 0 && d <= 1e6 && d >= request.IntervalS))
        {
            errors.Add($"durationS {d} must be at least one interval ({request.IntervalS} s) and at most 1e6 s.");
        }
        CheckRange(errors, request.CurrentRangeA);
        return errors;
    }

    /// <summary>Returns the reasons <paramref name="request"/> is refused (empty when it is fine).</summary>
    public IReadOnlyList<string> Check(ChargeDischargeRequest request)
    {
        var errors = new List<string>();
        if (!Galvanostatic)
        {
            errors.Add("this device has no galvanostatic mode (PalmSens' chronopotentiometry examples apply to the EmStat4 and Nexus, not the EmStat Pico).");
        }
        CheckPotential(errors, "upperCutoffV", request.UpperCutoffV);
        CheckPotential(errors, "lowerCutoffV", request.LowerCutoffV);
        if (!(request.UpperCutoffV > request.LowerCutoffV))
        {
            errors.Add($"upperCutoffV {request.UpperCutoffV} must lie above lowerCutoffV {request.LowerCutoffV}.");
        }
        foreach (var (field, current) in new[] { ("chargeCurrentA", request.ChargeCurrentA), ("dischargeCurrentA", request.DischargeCurrentA) })
        {
            if (!double.IsFinite(current) || current == 0)
            {
                errors.Add($"{field} {current} must be a non-zero current.");
            }
            else if (Math.Abs(current) > request.CurrentRangeA)
            {
                errors.Add($"{field} {current} exceeds the current range {request.CurrentRangeA} A: choose a larger currentRangeA.");
            }
        }
        if (!(request.IntervalS >= MinIntervalS && request.IntervalS <= 3600))
        {
            errors.Add($"intervalS {request.IntervalS} is outside [{MinIntervalS}, 3600] s.");
        }
        if (!(request.MaxDurationS >= request.IntervalS && request.MaxDurationS <= 1e6))
        {
            errors.Add($"maxDurationS {request.MaxDurationS} must be at least one interval ({request.IntervalS} s) and at most 1e6 s.");
        }
        if (request.Cycles < 1 || request.Cycles > MaxCycles)
        {
            errors.Add($"cycles {request.Cycles} is outside [1, {MaxCycles}].");
        }
        CheckRange(errors, request.CurrentRangeA);
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every reason when <paramref name="errors"/> is not empty.</summary>
    internal static void ThrowIfRefused(IReadOnlyList<string> errors, string technique)
    {
        if (errors.Count > 0)
        {
            throw new ArgumentException($"The {technique} request is refused: {string.Join(" ", errors)}");
        }
    }

    private void CheckPotential(List<string> errors, string field, double value)
    {
        if (!(value >= MinPotentialV && value <= MaxPotentialV))
        {
            errors.Add($"{field} {value} is outside the device's [{MinPotentialV}, {MaxPotentialV}] V.");
        }
    }

    private void CheckRange(List<string> errors, double rangeA)
    {
        if (!CurrentRangesA.Any(r => Math.Abs(r - rangeA) <= 1e-9 * r))
        {
            errors.Add($"currentRangeA {rangeA} is not one of the device's ranges ({string.Join(", ", CurrentRangesA)} A).");
        }
    }
}

/// <summary>The technique was stopped by an abort before it finished; the samples before it were delivered.</summary>
public sealed class PotentiostatAbortedException(string message) : Seccm.Devices.DeviceException(message);
