using Seccm.Electrochemistry.Simulation;

namespace Seccm.Electrochemistry.Analysis;

/// <summary>
/// Nicholson's working curve dEp(psi) and the Butler-Volmer peak-height factor ip(psi)/ip(reversible),
/// for n = 1, alpha = 0.5, semi-infinite diffusion and a switching potential 0.55 V past E0 (the windows
/// used here). Computed once from the simulator instead of copied from a table: it matches Nicholson's
/// table within 3 mV (tested) and extends into the irreversible range the table stops short of.
/// </summary>
public static class KineticWorkingCurve
{
    private static readonly Lazy<(double[] LnPsi, double[] DEpV, double[] Ratio)> Curve = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    private static (double[] LnPsi, double[] DEpV, double[] Ratio) Build()
    {
        const double d = 1e-5, v = 1, c = 1e-6;
        double fOverRt = PhysicalConstants.FOverRtPerV(1, PhysicalConstants.RoomTemperatureK);
        var protocol = new CvProtocol(-0.55, 0.55, -0.55, 0.0005, v);
        (double DEp, double Ip) Run(double k0)
        {
            var curve = CvSimulator.Cv(Electrode.Ideal(new RedoxCouple(0, k0, 0.5, d, c), 1.0), protocol);
            int vertex = CvPeakAnalysis.VertexIndex(curve.PotentialV);
            int a = 0, b = vertex;
            for (int k = 0; k <= vertex; k++) if (curve.FaradaicCurrentA[k] > curve.FaradaicCurrentA[a]) a = k;
            for (int k = vertex; k < curve.Count; k++) if (curve.FaradaicCurrentA[k] < curve.FaradaicCurrentA[b]) b = k;
            return (curve.PotentialV[a] - curve.PotentialV[b], curve.FaradaicCurrentA[a]);
        }
        double reversible = Run(1e4).Ip;
        const int points = 41; // psi from 0.005 to 50
        var lnPsi = new double[points];
        var dEp = new double[points];
        var ratio = new double[points];
        for (int p = 0; p < points; p++)
        {
            // Descending psi so dEp ascends (interpolation needs monotone x).
            double psi = 50 * Math.Pow(1e-4, p / (double)(points - 1));
            double k0 = psi * Math.Sqrt(Math.PI * d * fOverRt * v);
            var (sep, ip) = Run(k0);
            lnPsi[p] = Math.Log(psi);
            dEp[p] = sep;
            ratio[p] = ip / reversible;
        }
        return (lnPsi, dEp, ratio);
    }

    /// <summary>Nicholson's psi for a measured peak separation (n = 1 scale: pass n*dEp); +Infinity when reversible.</summary>
    public static double PsiFromPeakSeparation(double peakSeparationV)
    {
        var (lnPsi, dEp, _) = Curve.Value;
        if (peakSeparationV <= dEp[0]) return double.PositiveInfinity;
        return Math.Exp(Interpolate(dEp, lnPsi, peakSeparationV));
    }

    /// <summary>ip / ip(reversible) for a peak separation: 1 when reversible, about 0.78 when irreversible.</summary>
    public static double PeakCurrentFactor(double peakSeparationV)
    {
        var (_, dEp, ratio) = Curve.Value;
        if (peakSeparationV <= dEp[0]) return 1;
        if (peakSeparationV >= dEp[^1]) return ratio[^1];
        return Interpolate(dEp, ratio, peakSeparationV);
    }

    private static double Interpolate(double[] x, double[] y, double at)
    {
        int hi = 1;
        while (hi < x.Length - 1 && x[hi] < at) hi++;
        int lo = hi - 1;
        double t = (at - x[lo]) / (x[hi] - x[lo]);
        return y[lo] + t * (y[hi] - y[lo]);
    }
}
