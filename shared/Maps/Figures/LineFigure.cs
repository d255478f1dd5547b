using ScottPlot;

namespace Seccm.Maps.Figures;

/// <summary>
/// One curve on a line figure. <see cref="Group"/> picks the colour (the same group is the same colour, e.g. one
/// pixel at several rates); null means one colour per series in order.
/// </summary>
public sealed record XySeries(string Label, double[] X, double[] Y)
{
    public int? Group { get; init; }

    public bool Markers { get; init; }

    public bool Line { get; init; } = true;

    public LinePattern Pattern { get; init; } = LinePattern.Solid;
}

public sealed record LineFigureOptions
{
    public string? Title { get; init; }

    public string XLabel { get; init; } = "x";

    public string YLabel { get; init; } = "y";

    public int WidthPx { get; init; } = 800;

    public int HeightPx { get; init; } = 600;

    /// <summary>Where the legend goes; it is hidden when no series has a label.</summary>
    public Alignment LegendAlignment { get; init; } = Alignment.UpperLeft;
}

/// <summary>Generic x-y line plots, and the shared code of the CV and capacity figures.</summary>
public static class LineFigure
{
    public static void Save(string path, IReadOnlyList<XySeries> series, LineFigureOptions? options = null) =>
        FigureStyle.Save(path, Render(series, options));

    public static byte[] Render(IReadOnlyList<XySeries> series, LineFigureOptions? options = null)
    {
        options ??= new LineFigureOptions();
        FigureStyle.CheckSize(options.WidthPx, options.HeightPx);
        var plot = new Plot();
        Draw(plot, series, options);
        return FigureStyle.Png(plot, options.WidthPx, options.HeightPx);
    }

    internal static void Draw(Plot plot, IReadOnlyList<XySeries> series, LineFigureOptions options, double yFactor = 1, Func<XySeries, int, Color>? colour = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        FigureStyle.Apply(plot, options.Title, options.XLabel, options.YLabel);
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            if (s.X.Length != s.Y.Length)
            {
                throw new ArgumentException($"Series '{s.Label}': {s.X.Length} x values but {s.Y.Length} y values.", nameof(series));
            }
            var y = yFactor == 1 ? s.Y : s.Y.Select(v => v * yFactor).ToArray();
            var scatter = plot.Add.Scatter(s.X, y);
            scatter.Color = colour?.Invoke(s, i) ?? FigureStyle.Palette[(s.Group ?? i) % FigureStyle.Palette.Length];
            scatter.LineWidth = s.Line ? 2 : 0;
            scatter.LinePattern = s.Pattern;
            scatter.MarkerSize = s.Markers ? 8 : 0;
            scatter.LegendText = s.Label;
        }
        plot.Legend.IsVisible = series.Any(s => !string.IsNullOrEmpty(s.Label));
        plot.Legend.Alignment = options.LegendAlignment;
    }
}
