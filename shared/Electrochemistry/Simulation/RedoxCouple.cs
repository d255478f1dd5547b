namespace Seccm.Electrochemistry.Simulation;

/// <summary>
/// One Butler-Volmer couple O + n e = R with equal diffusion coefficients of O and R.
/// Concentration is the total (O + R) in mol/cm^3; the initial state is Nernstian equilibrium at the
/// first applied potential. <paramref name="InteractionG"/> is a Frumkin (regular solution) interaction: the
/// formal potential moves with the oxidised surface fraction x as E0 + (RT/nF) g (1 - 2x); g near 2 flattens
/// the isotherm into a two-phase plateau (LTO). It is applied from the previous step (semi-implicit).
/// </summary>
public sealed record RedoxCouple(
    double E0V,
    double K0CmPerS,
    double Alpha,
    double DCm2PerS,
    double ConcentrationMolCm3,
    int N = 1,
    double InteractionG = 0)
{
    internal void Validate()
    {
        if (N < 1) throw new ArgumentOutOfRangeException(nameof(N), N, "n must be >= 1");
        if (!(K0CmPerS > 0)) throw new ArgumentOutOfRangeException(nameof(K0CmPerS), K0CmPerS, "k0 must be > 0 cm/s");
        if (!(Alpha > 0 && Alpha < 1)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "alpha must be in (0, 1)");
        if (!(DCm2PerS > 0)) throw new ArgumentOutOfRangeException(nameof(DCm2PerS), DCm2PerS, "D must be > 0 cm^2/s");
        if (!(ConcentrationMolCm3 >= 0)) throw new ArgumentOutOfRangeException(nameof(ConcentrationMolCm3), ConcentrationMolCm3, "concentration must be >= 0 mol/cm^3");
        if (!(InteractionG >= 0 && InteractionG < 2)) throw new ArgumentOutOfRangeException(nameof(InteractionG), InteractionG, "interaction g must be in [0, 2): 2 and above separate phases");
        if (!double.IsFinite(E0V)) throw new ArgumentOutOfRangeException(nameof(E0V), E0V, "E0 must be finite");
    }
}
