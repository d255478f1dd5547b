namespace Seccm.Host.Bench;

/// <summary>Median and tail of a set of durations (nearest-rank percentiles).</summary>
internal static class LatencyStats
{
    public static double Percentile(IReadOnlyList<double> values, double percent)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IReadOnlyList<double> values) => Percentile(values, 50);
}
