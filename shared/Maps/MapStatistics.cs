namespace Seccm.Maps;

/// <summary>Summary statistics of map values, written once for every map writer, figure and service.</summary>
public static class MapStatistics
{
    /// <summary>The median (mean of the two middle values for an even count); NaN when there are no values.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        var n = sorted.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[(n / 2) - 1] + sorted[n / 2]);
    }

    /// <summary>Like <see cref="Median"/>, null when there are no values.</summary>
    public static double? MedianOrNull(IEnumerable<double> values)
    {
        var median = Median(values);
        return double.IsNaN(median) ? null : median;
    }
}
