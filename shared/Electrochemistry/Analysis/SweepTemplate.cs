using System.Runtime.CompilerServices;
using Seccm.Electrochemistry.Simulation;

namespace Seccm.Electrochemistry.Analysis;

/// <summary>
/// The dimensionless forward sweep of a Butler-Volmer couple (n = 1, alpha = 0.5, semi-infinite diffusion, starting
/// from equilibrium far before the wave): chi(u, ln Lambda) with i = F A C sqrt(D f v) chi, u = f (E - E0) and
/// Lambda = k0 / sqrt(D f v) (Matsuda-Ayabe). One table covers every D, k0, v and T, so a pixel's sweeps can be fitted
/// as a whole instead of through a noisy maximum. Built once from the simulator (the physics the map is validated with).
/// </summary>
internal static class SweepTemplate
{
    internal const double Alpha = 0.5;
    internal const double UStart = -25, UEnd = 35, UStep = 0.02;
    /// <summary>Lambda 0.002 (psi ~0.001, irreversible: the wave only shifts below) to 500 (reversible).</summary>
    internal const double LnLambdaMin = -6.2, LnLambdaMax = 6.2;
    private const int LambdaPoints = 125;
    internal static readonly double LnLambdaStep = (LnLambdaMax - LnLambdaMin) / (LambdaPoints - 1);
    private static readonly int UPoints = (int)Math.Round((UEnd - UStart) / UStep) + 1;

    private static readonly Lazy<double[][]> Table = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    private static double[][] Build()
    {
        const double d = 1e-5, v = 1, c = 1e-6, area = 1;
        double f = PhysicalConstants.FOverRtPerV(1, PhysicalConstants.RoomTemperatureK);
        double scale = PhysicalConstants.FaradayCPerMol * area * c * Math.Sqrt(d * f * v);
        double stepV = UStep / f;
        double startV = UStart / f;
        double durationS = (UPoints - 1) * stepV / v;
        var table = new double[LambdaPoints][];
        Parallel.For(0, LambdaPoints, l =>
        {
            double k0 = Math.Exp(LnLambdaMin + l * LnLambdaStep) * Math.Sqrt(d * f * v);
            var electrode = Electrode.Ideal(new RedoxCouple(0, k0, Alpha, d, c), area);
            var engine = new CvSimulator.Engine(electrode, 1 / (f * v), durationS);
            var curve = engine.Run(UPoints, stepV / v, 1, t => startV + v * t);
            var row = new double[UPoints];
            for (int k = 0; k < UPoints; k++) row[k] = curve.FaradaicCurrentA[k] / scale;
            table[l] = row;
        });
        return table;
    }

    /// <summary>chi and its derivatives by u and by ln Lambda (bilinear; u and ln Lambda clamped to the table).</summary>
    internal static (double Chi, double DChiDu, double DChiDLnLambda) Evaluate(double u, double lnLambda) => At(lnLambda).Evaluate(u);

    /// <summary>
    /// The two tabulated rows around <paramref name="lnLambda"/>: every sample of a sweep has the same Lambda, so the fit
    /// looks the rows up once per sweep and only interpolates in u per sample.
    /// </summary>
    internal static Rows At(double lnLambda)
    {
        var table = Table.Value;
        double pl = (Math.Clamp(lnLambda, LnLambdaMin, LnLambdaMax) - LnLambdaMin) / LnLambdaStep;
        int il = Math.Min((int)pl, LambdaPoints - 2);
        return new Rows(table[il], table[il + 1], pl - il);
    }

    /// <summary>Two neighbouring rows of the table and where between them ln Lambda lies (0..1).</summary>
    internal readonly struct Rows(double[] lower, double[] upper, double fraction)
    {
        /// <summary>chi and its derivatives by u and by ln Lambda at <paramref name="u"/> (bilinear; u clamped to the table).</summary>
        public (double Chi, double DChiDu, double DChiDLnLambda) Evaluate(double u)
        {
            double chi = Interpolate(u, out int column, out double lowerChi, out double upperChi);
            var (dChiDu, dChiDl) = Derivatives(column, lowerChi, upperChi);
            return (chi, dChiDu, dChiDl);
        }

        /// <summary>
        /// chi at <paramref name="u"/> (bilinear; u clamped to the table), and where it was read for <see cref="Derivatives"/>:
        /// the table's column and the two rows interpolated in u there. A fit that rejects a trial needs no derivatives.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public double Interpolate(double u, out int column, out double lowerChi, out double upperChi)
        {
            double pu = (Math.Clamp(u, UStart, UEnd) - UStart) / UStep;
            int iu = Math.Min((int)pu, UPoints - 2);
            double tu = pu - iu;
            double a0 = lower[iu] + tu * (lower[iu + 1] - lower[iu]);
            double a1 = upper[iu] + tu * (upper[iu + 1] - upper[iu]);
            (column, lowerChi, upperChi) = (iu, a0, a1);
            return a0 + fraction * (a1 - a0);
        }

        /// <summary>The derivatives of chi by u and by ln Lambda where <see cref="Interpolate"/> read it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (double DChiDu, double DChiDLnLambda) Derivatives(int column, double lowerChi, double upperChi)
        {
            double du0 = lower[column + 1] - lower[column];
            double du1 = upper[column + 1] - upper[column];
            return ((du0 + fraction * (du1 - du0)) / UStep, (upperChi - lowerChi) / LnLambdaStep);
        }
    }
}
