using System.Globalization;
using ScottPlot;

namespace Seccm.Maps.Figures;

/// <summary>How to draw a histogram. Values are shown as <c>value * DisplayFactor</c> in <see cref="DisplayUnit"/>.</summary>
public sealed record HistogramOptions
{
    public string? Title { get; init; }

    public string Quantity { get; init; } = "value";

    public string DisplayUnit { get; init; } = "";

    public double DisplayFactor { get; init; } = 1;

    /// <summary>Bins equal in log10 (for D, which spans decades); non-positive values are left out and counted.</summary>
    public bool LogBins { get; init; }

    /// <summary>Number of bins; default from the number of values (square root rule, 10 to 60).</summary>
    public int? Bins { get; init; }

    public int WidthPx { get; init; } = 800;

    public int HeightPx { get; init; } = 600;

    public static HistogramOptions DiffusionFromM2PerS(string title = "Diffusion coefficient") =>
        new() { Title = title, Quantity = "D", DisplayUnit = "cm²/s", DisplayFactor = 1e4, LogBins = true };
}

/// <summary>Histogram PNGs (e.g. of the D values of a map) with the median marked and the count of pixels used.</summary>
public static class HistogramFigure
{
    public static void Save(string path, IReadOnlyList<double> values, HistogramOptions? options = null) =>
        FigureStyle.Save(path, Render(values, options));

    public static byte[] Render(IReadOnlyList<double> values, HistogramOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        options ??= new HistogramOptions();
        FigureStyle.CheckSize(options.WidthPx, options.HeightPx);
        var used = new List<double>(values.Count);
        var left = 0;
        foreach (var raw in values)
        {
            var v = raw * options.DisplayFactor;
            if (options.LogBins)
            {
                v = v > 0 ? Math.Log10(v) : double.NaN;
            }
            if (double.IsFinite(v))
            {
                used.Add(v);
            }
            else
            {
                left++;
            }
        }
        var unit = string.IsNullOrEmpty(options.DisplayUnit) ? "" : $" ({options.DisplayUnit})";
        var plot = new Plot();
        FigureStyle.Apply(plot, options.Title, options.Quantity + unit, "pixels");

        if (used.Count > 0)
        {
            used.Sort();
            var min = used[0];
            var max = used[^1];
            if (!(max > min))
            {
                var half = options.LogBins ? 0.05 : Math.Max(Math.Abs(min) * 0.05, 1e-300);
                (min, max) = (min - half, max + half);
            }
            var binCount = options.Bins ?? Math.Clamp((int)Math.Round(Math.Sqrt(used.Count)), 10, 60);
            if (binCount < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(options), $"Histogram bins {binCount}: must be at least 1.");
            }
            var width = (max - min) / binCount;
            var counts = new int[binCount];
            foreach (var v in used)
            {
                counts[Math.Min((int)((v - min) / width), binCount - 1)]++;
            }
            var bars = new List<Bar>(binCount);
            for (var i = 0; i < binCount; i++)
            {
                bars.Add(new Bar
                {
                    Position = min + ((i + 0.5) * width),
                    Value = counts[i],
                    Size = width,
                    FillColor = FigureStyle.Palette[0].WithAlpha(0.8),
                    LineColor = Colors.White,
                    LineWidth = 0.5f,
                });
            }
            plot.Add.Bars(bars);
            var median = MapStatistics.Median(used);
            var line = plot.Add.VerticalLine(median, 2, FigureStyle.Palette[1], LinePattern.Dashed);
            var medianShown = options.LogBins ? Math.Pow(10, median) : median;
            line.LegendText = $"median {FigureStyle.FormatNumber(medianShown)}{(string.IsNullOrEmpty(options.DisplayUnit) ? "" : " " + options.DisplayUnit)}";
            plot.Legend.IsVisible = true;
            plot.Legend.Alignment = Alignment.UpperRight;
            if (options.LogBins)
            {
                plot.Axes.Bottom.TickGenerator = MapFigure.LogTicks(min, max);
            }
            plot.Axes.Margins(bottom: 0);
            plot.Axes.SetLimitsX(min - width, max + width);
        }
        var note = string.Create(CultureInfo.InvariantCulture, $"n = {used.Count}{(left > 0 ? $" ({left} without a value)" : "")}");
        var annotation = plot.Add.Annotation(note, Alignment.UpperLeft);
        annotation.LabelFontSize = FigureStyle.LegendSize;
        annotation.LabelFontName = FigureStyle.SansFont;
        annotation.LabelBackgroundColor = Colors.White;
        annotation.LabelBorderColor = Colors.Black;
        annotation.LabelShadowColor = Colors.Transparent;
        return FigureStyle.Png(plot, options.WidthPx, options.HeightPx);
    }
}
