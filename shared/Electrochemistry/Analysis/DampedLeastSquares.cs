namespace Seccm.Electrochemistry.Analysis;

/// <summary>
/// The Levenberg-Marquardt loop of the whole-wave fits (<see cref="WaveFit"/>, <see cref="SemiIntegralFit"/>): damped
/// Gauss-Newton steps on the free parameters, the damping raised until a step lowers the cost and lowered after it.
/// </summary>
internal static class DampedLeastSquares
{
    /// <summary>
    /// A cost: the sum of squared residuals at the parameters; with <c>accumulate</c> it also fills the lower triangle of
    /// JtJ and Jtr of the free parameters (cleared by the cost).
    /// </summary>
    internal delegate double Cost(double[] theta, bool accumulate);

    /// <summary>
    /// Minimises <paramref name="cost"/> from <paramref name="theta"/> (changed in place) over the parameters listed in
    /// <paramref name="free"/>. <paramref name="admit"/> sees each trial before it is costed: it may project it into
    /// bounds (then true) or reject it (false: more damping). Stops when an accepted step lowers the cost by less than
    /// <paramref name="settledShare"/> of it, when no damping helps, or after <paramref name="maxIterations"/>.
    /// Returns the final cost and the iterations used.
    /// </summary>
    internal static (double Cost, int Iterations) Minimize(double[] theta, int[] free, double[,] jtj, double[] jtr, Cost cost,
        Func<double[], double[], bool> admit, int maxIterations, double settledShare)
    {
        int n = free.Length;
        double lambda = 1e-3;
        double current = cost(theta, accumulate: true);
        var trial = new double[theta.Length];
        int iteration = 0;
        for (; iteration < maxIterations; iteration++)
        {
            for (int a = 0; a < n; a++) for (int b = 0; b < a; b++) jtj[b, a] = jtj[a, b];
            bool improved = false;
            while (lambda < 1e12)
            {
                var step = WaveFit.SolveDamped(jtj, jtr, lambda);
                if (step is null) { lambda *= 10; continue; }
                Array.Copy(theta, trial, theta.Length);
                for (int a = 0; a < n; a++) trial[free[a]] += step[a];
                if (!admit(trial, theta)) { lambda *= 10; continue; }
                double c = cost(trial, accumulate: false);
                if (c < current)
                {
                    improved = true;
                    Array.Copy(trial, theta, theta.Length);
                    double previous = current;
                    current = cost(theta, accumulate: true);
                    lambda = Math.Max(lambda / 10, 1e-9);
                    // Any accepted step counts, damped or not: near the minimum a model's kinks reject the undamped step
                    // again and again (waiting for an undamped one ran fits to the iteration limit).
                    if (previous - current < settledShare * previous) iteration = maxIterations;
                    break;
                }
                lambda *= 10;
            }
            if (!improved) break;
        }
        return (current, iteration);
    }
}
