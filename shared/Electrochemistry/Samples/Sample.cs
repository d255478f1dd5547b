using Seccm.Electrochemistry.Simulation;

namespace Seccm.Electrochemistry.Samples;

/// <summary>Local material under the pipette: everything the simulator needs besides the pipette itself.</summary>
/// <param name="Material">"lto", "lco", "lfp" or "substrate".</param>
/// <param name="Couples">Faradaic couples (empty on bare substrate).</param>
/// <param name="FilmThicknessCm">Depth of the redox-active material under the droplet (no-flux back wall).</param>
/// <param name="DoubleLayerFPerCm2">Specific double-layer capacitance; times the wetted area gives C_dl.</param>
/// <param name="GrainId">Voronoi grain index, -1 where the sample has no grains.</param>
/// <param name="Background">Electrolyte decomposition at this surface; null where the sample's window never reaches it.</param>
public sealed record MaterialParameters(
    string Material,
    IReadOnlyList<RedoxCouple> Couples,
    double FilmThicknessCm,
    double DoubleLayerFPerCm2,
    int GrainId = -1,
    ElectrolyteBackground? Background = null)
{
    /// <summary>The diffusion coefficient the D map should recover (first couple), NaN where nothing reacts.</summary>
    public double TrueDCm2PerS => Couples.Count > 0 ? Couples[0].DCm2PerS : double.NaN;
}

/// <summary>
/// What the measurement chain adds on top of the material (pipette size, cell, electronics). R_u left null is the
/// series resistance of tip and contact, <see cref="SampleDefaults.UncompensatedOhmAt55Nm"/> at 55 nm and inversely
/// proportional to the radius (a wider opening conducts better), so a larger pipette's larger currents do not gain an
/// unphysical iR shift. <see cref="MeasurementBandwidthHz"/>: the current amplifier's bandwidth (null: ideal).
/// </summary>
public sealed record PipetteSettings(
    double RadiusNm = SampleDefaults.PipetteRadiusNm,
    double? UncompensatedOhm = null,
    double LeakageAPerV = 2e-14,
    double LeakageOffsetA = 5e-14,
    double NoiseRmsA = 0,
    int NoiseSeed = 1,
    double? MeasurementBandwidthHz = SampleDefaults.CurrentAmplifierBandwidthHz)
{
    public double AreaCm2 => Math.PI * Math.Pow(RadiusNm * 1e-7, 2);

    /// <summary>R_u the simulator uses: the given value, or the series resistance scaled from its value at 55 nm.</summary>
    public double EffectiveUncompensatedOhm => UncompensatedOhm ?? SampleDefaults.UncompensatedOhmAt55Nm * SampleDefaults.PipetteRadiusNm / RadiusNm;
}

/// <summary>
/// Electrolyte decomposition under the droplet (LiClO4 in EC:DEC): Tafel oxidation above <see cref="OxidationOnsetV"/>
/// and reduction below <see cref="ReductionOnsetV"/>, each <see cref="OnsetCurrentDensityAPerCm2"/> at its onset and a
/// decade per <see cref="TafelSlopeVPerDecade"/> beyond it. Between the onsets it is negligible (decades below). It is
/// what a pipette touching a bare current collector at 4.2 V reads, and what makes that contact detectable.
/// </summary>
public sealed record ElectrolyteBackground(
    double OxidationOnsetV = 4.05,
    double ReductionOnsetV = 0.95,
    double OnsetCurrentDensityAPerCm2 = 3e-4,
    double TafelSlopeVPerDecade = 0.06)
{
    /// <summary>
    /// Carbonate electrolyte on a carbon-coated current collector: about 9 pA at 4.2 V through a 55 nm pipette. The steep
    /// slope keeps it under 0.05 pA at 3.9 V even through a 1 um pipette, so the LFP CVs' vertex does not read as a wave.
    /// </summary>
    public static ElectrolyteBackground Carbonate { get; } = new();

    /// <summary>Background current (anodic positive) at an applied potential through a wetted area.</summary>
    public double CurrentA(double potentialV, double areaCm2)
    {
        double oxidation = Math.Pow(10, (potentialV - OxidationOnsetV) / TafelSlopeVPerDecade);
        double reduction = Math.Pow(10, (ReductionOnsetV - potentialV) / TafelSlopeVPerDecade);
        return areaCm2 * OnsetCurrentDensityAPerCm2 * (oxidation - reduction);
    }
}

/// <summary>Numbers of the published instrument (PHYSICS.md).</summary>
public static class SampleDefaults
{
    public const double PipetteRadiusNm = 55;
    /// <summary>Li sites in LTO: 3.48 g/cm^3 / 459.1 g/mol * 3.</summary>
    public const double LtoConcentrationMolCm3 = 0.0227;
    public const double LtoMeanDCm2PerS = 2.47e-11;

    /// <summary>
    /// -3 dB bandwidth of the current amplifier on its pA range (first-order; e.g. 1 GOhm feedback with ~0.8 pF across
    /// it). It is what bends LTO's ip below sqrt(v) above 25 V/s at 55 nm, the paper's limit: an irreversible LTO peak
    /// lasts ~2.5 ms at 50 V/s, only three amplifier time constants (0.8 ms), while at 20 V/s it lasts eight. Fitted to
    /// that limit (300 Hz moves it to 50 V/s, 100 Hz to 10 V/s); the wave fit models the same filter, so D stays unbiased.
    /// </summary>
    public const double CurrentAmplifierBandwidthHz = 200;

    /// <summary>
    /// Series resistance of tip, electrolyte and film contact at 55 nm (scaled as 1 / radius). Fitted with LTO's k0 to
    /// the paper's LTO peak separations through the 500 nm slow-CV contact (3.6e7 ohm there): 67/86/116 mV against
    /// 57/74/136 at 10/100/500 mV/s. No (k0 1e-5..3e-3 cm/s, alpha 0.2..0.8, R_u, film depth 40..750 nm) does better
    /// than ~15% on all three: iR grows as ip, i.e. as sqrt(v), and gives at most a 1.5x rise from 100 to 500 mV/s
    /// where the paper shows 1.84x. With LCO's k0 and alpha it gives 158/478/697 mV against 155/426/736.
    /// </summary>
    public const double UncompensatedOhmAt55Nm = 3.3e8;

    /// <summary>
    /// Pipette for LTO's slow (10-500 mV/s) peak-separation CVs: at 55 nm the 10 mV/s peak is ~0.5 pA against 0.2 pA
    /// of noise and dEp is noise; the paper measured these on a film with a larger contact.
    /// </summary>
    public const double SlowCvPipetteRadiusNm = 500;

    /// <summary>
    /// Pipette for the LFP scan-rate CVs on the particle: at 55 nm the thin-layer peak at 1 mV/s is ~0.01 pA, far under
    /// 0.2 pA of noise; through 1 um it is ~3 pA and the split wave below 10 mV/s is resolved.
    /// </summary>
    public const double LfpRateSeriesPipetteRadiusNm = 1000;

    /// <summary>Centre (x = y) of the simulated LFP particle, um (radius 5 um).</summary>
    public const double LfpParticleCentreUm = 7.5;
    public static double PipetteAreaCm2 => Math.PI * Math.Pow(PipetteRadiusNm * 1e-7, 2);
}

/// <summary>A sample surface: maps a position (um) to the local material and topography.</summary>
public abstract class Sample
{
    /// <summary>Catalog name (lower case).</summary>
    public abstract string Name { get; }

    /// <summary>Side of the square area the published scans cover, um.</summary>
    public abstract double ScanSizeUm { get; }

    public abstract MaterialParameters MaterialAt(double xUm, double yUm);

    /// <summary>Surface height above the substrate plane, nm.</summary>
    public abstract double HeightNm(double xUm, double yUm);

    /// <summary>Ground-truth D at a position (NaN where there is no Faradaic material).</summary>
    public double TrueDCm2PerS(double xUm, double yUm) => MaterialAt(xUm, yUm).TrueDCm2PerS;

    /// <summary>The electrode the simulator runs when the pipette touches down at (x, y).</summary>
    public Electrode ElectrodeAt(double xUm, double yUm, PipetteSettings pipette)
    {
        ArgumentNullException.ThrowIfNull(pipette);
        var m = MaterialAt(xUm, yUm);
        double area = pipette.AreaCm2;
        return new Electrode(m.Couples, area, m.FilmThicknessCm, PhysicalConstants.RoomTemperatureK,
            m.DoubleLayerFPerCm2 * area, pipette.EffectiveUncompensatedOhm, pipette.LeakageAPerV, pipette.LeakageOffsetA,
            pipette.NoiseRmsA, pipette.NoiseSeed, m.Background is { } background ? v => background.CurrentA(v, area) : null,
            pipette.MeasurementBandwidthHz);
    }

    /// <summary>The potential window a CV on this sample sweeps (start = vertex 2, forward towards vertex 1).</summary>
    public abstract (double StartV, double VertexV) DefaultWindowV { get; }
}
