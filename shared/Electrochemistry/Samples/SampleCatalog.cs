using Seccm.Electrochemistry.Simulation;

namespace Seccm.Electrochemistry.Samples;

/// <summary>The simulated samples of the published work, by name.</summary>
public static class SampleCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["lto", "lco", "lfp", "substrate"];

    /// <summary>Creates a sample; the seed fixes grains and facets. Names are case-insensitive.</summary>
    public static Sample Create(string name, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "lto" => new LtoSample(seed),
            "lco" => new LcoSample(),
            "lfp" => new LfpSample(),
            "substrate" => new SubstrateSample(),
            _ => throw new ArgumentException($"unknown sample '{name}'; valid samples: {string.Join(", ", Names)}"),
        };
    }
}

/// <summary>
/// Li4Ti5O12 polycrystal: Voronoi grains, each from one of three facet families with its own D
/// (family mean 2.47e-11 cm^2/s), and a tilted facet top some tens of nm high.
/// k0 (with the pipette's R_u, <see cref="SampleDefaults.UncompensatedOhmAt55Nm"/>) is fitted so dEp is about
/// 67/86/116 mV at 10/100/500 mV/s through the slow-CV contact (the paper reports 57/74/136: neither k0 nor an iR
/// drop grows that steeply from 100 to 500 mV/s; see the tests).
/// </summary>
internal sealed class LtoSample : Sample
{
    internal const double SlowCvPipetteRadiusNm = SampleDefaults.SlowCvPipetteRadiusNm;
    internal const double K0CmPerS = 2e-5;
    /// <summary>
    /// Film depth. The paper names no thickness; 750 nm makes solid-state diffusion (L^2/D = 230 s at the mean D) limit
    /// the ~1600 s charge/discharge under a 5 um pipette: charging at 27 pA delivers ~94% of n F C A L, discharging at
    /// twice the current ~81%, so the fast discharge gives clearly less than the charge (coulombic efficiency ~0.87),
    /// as the paper shows. The CVs (diffusion length 80 nm at 10 mV/s) see it as semi-infinite.
    /// </summary>
    internal const double FilmCm = 750e-7;
    internal static readonly double[] FacetDFactors = [0.6, 1.0, 1.4];
    private const int GrainCount = 30;
    private readonly VoronoiGrains _grains;
    private readonly MaterialParameters[] _materials;
    private readonly (double Base, double Sx, double Sy)[] _facets;

    public LtoSample(int seed)
    {
        var random = new Random(seed);
        _grains = new VoronoiGrains(GrainCount, ScanSizeUm, random);
        _materials = new MaterialParameters[GrainCount];
        _facets = new (double, double, double)[GrainCount];
        for (int g = 0; g < GrainCount; g++)
        {
            double d = SampleDefaults.LtoMeanDCm2PerS * FacetDFactors[random.Next(FacetDFactors.Length)] * (0.95 + 0.1 * random.NextDouble());
            _materials[g] = new MaterialParameters("lto",
                [new RedoxCouple(1.55, K0CmPerS, 0.5, d, SampleDefaults.LtoConcentrationMolCm3)], FilmCm, 20e-6, g);
            // A faceted top: 20-60 nm high, slopes up to ~40 nm/um.
            _facets[g] = (20 + 40 * random.NextDouble(), 80 * (random.NextDouble() - 0.5), 80 * (random.NextDouble() - 0.5));
        }
    }

    public override string Name => "lto";
    public override double ScanSizeUm => 5;
    public override (double StartV, double VertexV) DefaultWindowV => (1.0, 2.1);
    public int GrainAt(double xUm, double yUm) => _grains.GrainAt(xUm, yUm);
    public override MaterialParameters MaterialAt(double xUm, double yUm) => _materials[_grains.GrainAt(xUm, yUm)];

    public override double HeightNm(double xUm, double yUm)
    {
        int g = _grains.GrainAt(xUm, yUm);
        var (cx, cy) = _grains.Centre(g);
        var f = _facets[g];
        return Math.Clamp(f.Base + f.Sx * (xUm - cx) + f.Sy * (yUm - cy), 5, 90);
    }
}

/// <summary>LiCoO2: E0 3.9 V, sluggish asymmetric kinetics (dEp about 155/426/736 mV at 10/100/500 mV/s).</summary>
internal sealed class LcoSample : Sample
{
    internal static readonly RedoxCouple Couple = new(3.9, 1.8e-6, 0.12, 1e-10, 0.0227);
    private static readonly MaterialParameters Material = new("lco", [Couple], 1e-3, 20e-6);
    public override string Name => "lco";
    public override double ScanSizeUm => 5;
    public override (double StartV, double VertexV) DefaultWindowV => (2.8, 5.0);
    public override MaterialParameters MaterialAt(double xUm, double yUm) => Material;
    public override double HeightNm(double xUm, double yUm) => 50;
}

/// <summary>
/// LiFePO4 secondary particle (10 um across, 1.5 um high) on a flat current collector; both oxidise the electrolyte above 4 V. The 3.4 V wave is two
/// couples 140 mV apart: LiFePO4/FePO4 and a metastable LixFePO4 phase, each half of the Li sites, in primary
/// particles ~100 nm deep (thin-layer at slow rates, so the waves are narrow and resolved). Their sluggish
/// kinetics with a low anodic transfer coefficient broaden both waves with rate until they merge:
/// two peaks at 1 and 5 mV/s, one from 10 mV/s on (needs a pipette of a few hundred nm for pA currents).
/// </summary>
internal sealed class LfpSample : Sample
{
    internal static readonly RedoxCouple Lower = new(3.38, 1e-6, 0.7, 1e-11, 0.0114);
    internal static readonly RedoxCouple Metastable = new(3.52, 1e-6, 0.7, 1e-11, 0.0114);
    internal const double RateSeriesPipetteRadiusNm = SampleDefaults.LfpRateSeriesPipetteRadiusNm;
    internal const double CentreUm = SampleDefaults.LfpParticleCentreUm, RadiusUm = 5, PeakHeightNm = 1500;
    private static readonly MaterialParameters Particle = new("lfp", [Lower, Metastable], 100e-7, 20e-6, Background: ElectrolyteBackground.Carbonate);
    private static readonly MaterialParameters Bare = new("substrate", [], 1e-4, 10e-6, Background: ElectrolyteBackground.Carbonate);
    public override string Name => "lfp";
    public override double ScanSizeUm => 15;
    public override (double StartV, double VertexV) DefaultWindowV => (3.0, 4.2);

    private static double R2(double x, double y) => ((x - CentreUm) * (x - CentreUm) + (y - CentreUm) * (y - CentreUm)) / (RadiusUm * RadiusUm);

    public override MaterialParameters MaterialAt(double xUm, double yUm) => R2(xUm, yUm) < 1 ? Particle : Bare;

    public override double HeightNm(double xUm, double yUm)
    {
        double r2 = R2(xUm, yUm);
        return r2 < 1 ? PeakHeightNm * Math.Sqrt(1 - r2) : 0;
    }
}

/// <summary>Bare current collector: no Faradaic couple of its own; double-layer charging, leakage and electrolyte decomposition.</summary>
internal sealed class SubstrateSample : Sample
{
    private static readonly MaterialParameters Bare = new("substrate", [], 1e-4, 10e-6, Background: ElectrolyteBackground.Carbonate);
    public override string Name => "substrate";
    public override double ScanSizeUm => 5;
    public override (double StartV, double VertexV) DefaultWindowV => (1.0, 2.1);
    public override MaterialParameters MaterialAt(double xUm, double yUm) => Bare;
    public override double HeightNm(double xUm, double yUm) => 0;
}
