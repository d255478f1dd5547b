using System.Numerics;

namespace Seccm.Electrochemistry.Analysis;

/// <summary>One measured CV: samples in time order, forward sweep first, anodic current positive.</summary>
public sealed record CvCurve(double ScanRateVPerS, double[] PotentialV, double[] CurrentA)
{
    /// <summary>Smallest curve the analysis accepts (a baseline, a peak and a reverse sweep need samples).</summary>
    public const int MinimumPoints = 20;

    internal void Validate()
    {
        if (!(ScanRateVPerS > 0) || !double.IsFinite(ScanRateVPerS))
            throw new ArgumentException($"scan rate {ScanRateVPerS} V/s: must be a positive number", nameof(ScanRateVPerS));
        ArgumentNullException.ThrowIfNull(PotentialV);
        ArgumentNullException.ThrowIfNull(CurrentA);
        if (PotentialV.Length != CurrentA.Length)
            throw new ArgumentException($"CV at {ScanRateVPerS} V/s: {PotentialV.Length} potentials but {CurrentA.Length} currents");
        if (PotentialV.Length < MinimumPoints)
            throw new ArgumentException($"CV at {ScanRateVPerS} V/s: {PotentialV.Length} points, need at least {MinimumPoints}");
        if (AllFinite(PotentialV) && AllFinite(CurrentA)) return;
        for (int i = 0; i < PotentialV.Length; i++)
            if (!double.IsFinite(PotentialV[i]) || !double.IsFinite(CurrentA[i]))
                throw new ArgumentException($"CV at {ScanRateVPerS} V/s: sample {i} is not a finite number");
    }

    /// <summary>Whether every value is finite, several at a time (x - x is 0 for a finite x, NaN for an infinite or NaN one).</summary>
    private static bool AllFinite(ReadOnlySpan<double> values)
    {
        int k = 0;
        if (Vector.IsHardwareAccelerated)
            for (; k + Vector<double>.Count <= values.Length; k += Vector<double>.Count)
            {
                var v = new Vector<double>(values[k..]);
                if (!Vector.EqualsAll(v - v, Vector<double>.Zero)) return false;
            }
        for (; k < values.Length; k++) if (!double.IsFinite(values[k])) return false;
        return true;
    }
}

/// <summary>How to analyse; the physical numbers must match the experiment (RS needs A, C, n, T).</summary>
public sealed record AnalysisSettings
{
    /// <summary>Wetted area; computed from <see cref="RadiusNm"/> when not given.</summary>
    public double? AreaCm2 { get; init; }
    public double RadiusNm { get; init; } = 55;
    public double ConcentrationMolCm3 { get; init; } = 0.0227;
    public int N { get; init; } = 1;
    public double TemperatureK { get; init; } = PhysicalConstants.RoomTemperatureK;
    /// <summary>Savitzky-Golay window width in volts (converted to samples per curve).</summary>
    public double SmoothingWindowV { get; init; } = 0.04;
    /// <summary>Part of the forward sweep (fractions of its length) where the baseline is fitted: before the wave.</summary>
    public double BaselineFromFraction { get; init; } = 0.03;
    public double BaselineToFraction { get; init; } = 0.25;
    /// <summary>A peak counts when its prominence exceeds this many raw-noise sigmas (smoothed noise still leaves correlated bumps of a few smoothed sigmas).</summary>
    public double ProminenceSigmas { get; init; } = 3;
    public double MinPeakSeparationV { get; init; } = 0.03;
    /// <summary>Divide each peak current by the Butler-Volmer peak-height factor for its dEp (alpha 0.5 assumed).</summary>
    public bool CorrectKinetics { get; init; } = true;
    /// <summary>Fits below this R^2 are flagged non-linear.</summary>
    public double MinRSquared { get; init; } = 0.98;

    /// <summary>
    /// -3 dB bandwidth of the potentiostat's current amplifier (first-order) that recorded the curves, when the instrument
    /// declares it; the wave fit passes its model through the same filter. Null (the default): nothing is assumed about
    /// an instrument that did not say, i.e. an ideal amplifier.
    /// </summary>
    public double? MeasurementBandwidthHz { get; init; }

    /// <summary>
    /// Uncompensated resistance of the cell, ohm, when known (e.g. measured by impedance, or 0 for a nanopipette at pA
    /// currents); the wave model then puts the electrode at E - R_u i with this value. Null (the default): R_u is fitted
    /// wherever the waves show what the plain sweep model cannot follow (fast rates below the sqrt(v) line, a misfit).
    /// </summary>
    public double? UncompensatedResistanceOhm { get; init; }

    /// <summary>Cathodic transfer coefficient when known; null (the default): fitted with the semi-integral model, 0.5 otherwise.</summary>
    public double? TransferCoefficient { get; init; }

    /// <summary>A wave fit whose residual rms exceeds this share of the largest peak (and three noise sigmas) is flagged as a misfit.</summary>
    public double MaxWaveFitResidualShare { get; init; } = 0.03;

    public double EffectiveAreaCm2 => AreaCm2 ?? Math.PI * Math.Pow(RadiusNm * 1e-7, 2);

    internal void Validate()
    {
        if (AreaCm2 is { } a && !(a > 0)) throw new ArgumentException($"area {a} cm^2: must be > 0", nameof(AreaCm2));
        if (AreaCm2 is null && !(RadiusNm > 0)) throw new ArgumentException($"radius {RadiusNm} nm: must be > 0", nameof(RadiusNm));
        if (!(ConcentrationMolCm3 > 0)) throw new ArgumentException($"concentration {ConcentrationMolCm3} mol/cm^3: must be > 0", nameof(ConcentrationMolCm3));
        if (N < 1) throw new ArgumentException($"n {N}: must be >= 1", nameof(N));
        if (!(TemperatureK > 0)) throw new ArgumentException($"temperature {TemperatureK} K: must be > 0", nameof(TemperatureK));
        if (UncompensatedResistanceOhm is { } ru && !(ru >= 0 && double.IsFinite(ru))) throw new ArgumentException($"uncompensated resistance {ru} ohm: must be >= 0 (or null to fit it)", nameof(UncompensatedResistanceOhm));
        if (TransferCoefficient is { } alpha && !(alpha > 0 && alpha < 1)) throw new ArgumentException($"transfer coefficient {alpha}: must be between 0 and 1 (or null to fit it)", nameof(TransferCoefficient));
        if (MeasurementBandwidthHz is { } bw && !(bw > 0 && double.IsFinite(bw))) throw new ArgumentException($"measurement bandwidth {bw} Hz: must be > 0 (or null for an ideal amplifier)", nameof(MeasurementBandwidthHz));
    }
}
