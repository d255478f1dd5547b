namespace Seccm.Electrochemistry.Tests.Analysis;

/// <summary>
/// An oracle independent of our finite-volume simulator: the CV of a one-electron couple at a planar electrode from the
/// Nicholson-Shain integral equation. Semi-infinite diffusion turns the surface concentrations into the semi-integral
/// of the current, c_O(0,t) = C - I1(t) / (F A sqrt(D)) with I1 = pi^-1/2 int i(u) (t-u)^-1/2 du, so no concentration
/// profile is ever computed. The equation is solved by product integration with the current constant on each
/// of a fine grid of steps (Huber's method), each step's current from the Butler-Volmer law (Nernst when k0 is null),
/// and read at the sample times by linear interpolation. Currents in A, anodic positive; reduction when the sweep starts
/// above E0 (oxidised species in solution), oxidation when it starts below. With an uncompensated resistance the electrode
/// sits at E - R_u i, i the step's own current: each step's equation is then solved for its current by bisection (the
/// consumption rate rises monotonically with the current it is solved for), not in closed form.
/// </summary>
internal static class IntegralEquationCv
{
    private const double F = 96485.33212, R = 8.314462618, T = 298.15;

    /// <summary>A full cycle start -> vertex -> start sampled every <paramref name="stepV"/>.</summary>
    public static (double[] PotentialV, double[] CurrentA) Cycle(double startV, double vertexV, double stepV, double rateVPerS,
        double e0V, double dCm2PerS, double areaCm2, double cMolCm3, double? k0CmPerS = null, double alpha = 0.5, int substeps = 20, double ruOhm = 0)
    {
        double f = F / (R * T);
        double span = Math.Abs(vertexV - startV);
        int half = (int)Math.Round(span / stepV);
        int samples = 2 * half + 1;
        double dir = Math.Sign(vertexV - startV);
        double dtSample = stepV / rateVPerS;
        int fine = (samples - 1) * substeps;
        double h = dtSample / substeps;
        double PotentialAt(double t)
        {
            double s = rateVPerS * t;
            return s <= span ? startV + dir * s : vertexV - dir * (s - span);
        }
        // Weights of a constant current on step k (t_{k-1}..t_k) seen at t_n: 2 sqrt(h / pi) (sqrt(n-k+1) - sqrt(n-k)).
        var w = new double[fine + 1];
        for (int j = 0; j <= fine; j++) w[j] = 2 * Math.Sqrt(h / Math.PI) * (Math.Sqrt(j + 1.0) - Math.Sqrt(j));
        double sqrtD = Math.Sqrt(dCm2PerS);
        double fa = F * areaCm2;
        // The species in solution is oxidised for a cathodic first sweep, reduced for an anodic one; the forward current
        // is dir * F A (flux of the consumed species). m = I1 / (F A) is the consumed amount per sqrt(D).
        var current = new double[fine + 1];
        var fluxOf = new double[fine + 1]; // consumption rate of the bulk species per area, mol/(cm^2 s) * F A
        for (int n = 1; n <= fine; n++)
        {
            double history = 0;
            for (int k = 1; k < n; k++) history += fluxOf[k] * w[n - k];
            double eta = PotentialAt((n - 0.5) * h) - e0V;
            // x > 0 drives the consumption of the bulk species.
            double x = dir * f * eta;
            // bulk species surface conc = C - (history + w0 g)/(F A sqrt D); product = (history + w0 g)/(F A sqrt D)
            double w0 = w[0];
            double g;
            if (ruOhm > 0)
            {
                // x falls by f R_u g as the consumption current g grows (i = dir g flows through R_u).
                double rate = k0CmPerS ?? 0;
                double beta = dir < 0 ? alpha : 1 - alpha;
                double Excess(double gTrial)
                {
                    double xe = x - f * ruOhm * gTrial;
                    double consumed = (history + w0 * gTrial) / (fa * sqrtD);
                    if (k0CmPerS is null) return gTrial - (cMolCm3 * fa * sqrtD / (1 + Math.Exp(-xe)) - history) / w0;
                    return gTrial - fa * rate * ((cMolCm3 - consumed) * Math.Exp(beta * xe) - consumed * Math.Exp((beta - 1) * xe));
                }
                double lo = -history / w0, hi = (cMolCm3 * fa * sqrtD - history) / w0;
                for (int b = 0; b < 200 && hi - lo > 1e-16 * Math.Max(Math.Abs(hi), 1e-30); b++)
                {
                    double mid = 0.5 * (lo + hi);
                    if (Excess(mid) > 0) hi = mid; else lo = mid;
                }
                g = 0.5 * (lo + hi);
            }
            else if (k0CmPerS is not { } k0)
            {
                // Nernst: product / bulk-surface = exp(x) -> consumed share = 1 / (1 + exp(-x)).
                double share = 1 / (1 + Math.Exp(-x));
                g = (share * cMolCm3 * fa * sqrtD - history) / w0;
            }
            else
            {
                // g = F A k0 [c_b exp(beta x) - c_p exp((beta - 1) x)], beta the transfer coefficient of the consumption.
                double beta = dir < 0 ? alpha : 1 - alpha;
                double ef = Math.Exp(beta * x), eb = Math.Exp((beta - 1) * x);
                double s = fa * k0 / (fa * sqrtD);
                // g = fa k0 [C ef] - s (history + w0 g)(ef + eb) -> g (1 + s w0 (ef + eb)) = fa k0 C ef - s history (ef + eb)
                g = (fa * k0 * cMolCm3 * ef - s * history * (ef + eb)) / (1 + s * w0 * (ef + eb));
            }
            fluxOf[n] = g;
            current[n] = dir * g;
        }
        var potential = new double[samples];
        var result = new double[samples];
        for (int q = 0; q < samples; q++)
        {
            double t = q * dtSample;
            potential[q] = PotentialAt(t);
            // Step currents belong to the step midpoints (n - 0.5) h.
            double pos = t / h + 0.5;
            int n0 = Math.Clamp((int)Math.Floor(pos), 1, fine - 1);
            double frac = Math.Clamp(pos - n0, 0, 1);
            result[q] = q == 0 ? 0 : current[n0] + frac * (current[n0 + 1] - current[n0]);
        }
        return (potential, result);
    }
}
