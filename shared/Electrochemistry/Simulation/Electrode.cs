namespace Seccm.Electrochemistry.Simulation;

/// <summary>
/// The wetted electrode and its cell: Faradaic couples (none for a bare substrate), the film they live in,
/// and the non-Faradaic parts a real pipette adds.
/// </summary>
/// <param name="Couples">Couples that react in parallel at the same interface; their currents add.</param>
/// <param name="AreaCm2">Wetted area (droplet footprint).</param>
/// <param name="FilmThicknessCm">Film thickness with a no-flux back wall; +Infinity for semi-infinite diffusion.</param>
/// <param name="TemperatureK">Cell temperature.</param>
/// <param name="DoubleLayerF">Double-layer capacitance C_dl.</param>
/// <param name="UncompensatedOhm">Uncompensated resistance R_u; the iR coupling is solved implicitly.</param>
/// <param name="LeakageAPerV">Leakage slope, added to the measured current as slope * E_applied.</param>
/// <param name="LeakageOffsetA">Constant leakage offset.</param>
/// <param name="NoiseRmsA">Gaussian current noise (rms) added to every sample.</param>
/// <param name="NoiseSeed">Seed of the noise generator: same seed, same noise.</param>
/// <param name="BackgroundA">Non-Faradaic-to-the-sample background at an applied potential (electrolyte decomposition), added to the measured current; null for none.</param>
/// <param name="MeasurementBandwidthHz">-3 dB bandwidth of the current amplifier (first-order low-pass on the measured current); null for an ideal amplifier.</param>
public sealed record Electrode(
    IReadOnlyList<RedoxCouple> Couples,
    double AreaCm2,
    double FilmThicknessCm = double.PositiveInfinity,
    double TemperatureK = PhysicalConstants.RoomTemperatureK,
    double DoubleLayerF = 0,
    double UncompensatedOhm = 0,
    double LeakageAPerV = 0,
    double LeakageOffsetA = 0,
    double NoiseRmsA = 0,
    int NoiseSeed = 1,
    Func<double, double>? BackgroundA = null,
    double? MeasurementBandwidthHz = null)
{
    /// <summary>A single-couple electrode with everything non-Faradaic switched off.</summary>
    public static Electrode Ideal(RedoxCouple couple, double areaCm2, double filmThicknessCm = double.PositiveInfinity) =>
        new([couple], areaCm2, filmThicknessCm);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Couples);
        foreach (var c in Couples) c.Validate();
        if (!(AreaCm2 > 0)) throw new ArgumentOutOfRangeException(nameof(AreaCm2), AreaCm2, "area must be > 0 cm^2");
        if (!(FilmThicknessCm > 0)) throw new ArgumentOutOfRangeException(nameof(FilmThicknessCm), FilmThicknessCm, "film thickness must be > 0 cm (or +Infinity)");
        if (!(TemperatureK > 0)) throw new ArgumentOutOfRangeException(nameof(TemperatureK), TemperatureK, "temperature must be > 0 K");
        if (!(DoubleLayerF >= 0)) throw new ArgumentOutOfRangeException(nameof(DoubleLayerF), DoubleLayerF, "C_dl must be >= 0 F");
        if (!(UncompensatedOhm >= 0)) throw new ArgumentOutOfRangeException(nameof(UncompensatedOhm), UncompensatedOhm, "R_u must be >= 0 ohm");
        if (!(NoiseRmsA >= 0)) throw new ArgumentOutOfRangeException(nameof(NoiseRmsA), NoiseRmsA, "noise rms must be >= 0 A");
        if (MeasurementBandwidthHz is { } bw && !(bw > 0 && double.IsFinite(bw))) throw new ArgumentOutOfRangeException(nameof(MeasurementBandwidthHz), bw, "measurement bandwidth must be > 0 Hz (or null for an ideal amplifier)");
        if (!double.IsFinite(LeakageAPerV) || !double.IsFinite(LeakageOffsetA)) throw new ArgumentOutOfRangeException(nameof(LeakageAPerV), "leakage must be finite");
    }
}
