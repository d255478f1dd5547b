using ScottPlot;

namespace Seccm.Maps.Figures;

/// <summary>
/// The Randles-Sevcik fit of one pixel for the CV figure: forward-peak currents against sqrt(scan rate) and the
/// fitted line ip = Intercept + Slope * sqrt(v). <see cref="Group"/> matches the colour of that pixel's CVs.
/// </summary>
public sealed record PeakFitSeries(string Label, double[] SqrtScanRate, double[] PeakCurrentA, double SlopeAPerSqrtVPerS, double InterceptA)
{
    public int? Group { get; init; }

    /// <summary>False for points shown without a line (e.g. rates outside the linear range).</summary>
    public bool DrawLine { get; init; } = true;
}

public sealed record CvFigureOptions
{
    public string? Title { get; init; }

    public int WidthPx { get; init; } = 1400;

    public int HeightPx { get; init; } = 650;
}

/// <summary>
/// Example CVs (current against potential; a few pixels at several rates) on the left and their peak current
/// against sqrt(v) with the fitted lines on the right. Currents are shown in pA, nA or µA, whichever fits.
/// </summary>
public static class CvFigure
{
    public static void Save(string path, IReadOnlyList<XySeries> curves, IReadOnlyList<PeakFitSeries> fits, CvFigureOptions? options = null) =>
        FigureStyle.Save(path, Render(curves, fits, options));

    /// <summary>Curves: X = potential in V, Y = current in A (anodic positive).</summary>
    public static byte[] Render(IReadOnlyList<XySeries> curves, IReadOnlyList<PeakFitSeries> fits, CvFigureOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(curves);
        ArgumentNullException.ThrowIfNull(fits);
        options ??= new CvFigureOptions();
        FigureStyle.CheckSize(options.WidthPx, options.HeightPx);
        var peak = curves.SelectMany(c => c.Y).Concat(fits.SelectMany(f => f.PeakCurrentA))
            .Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(1e-12).Max();
        var (factor, unit) = CurrentUnit(peak);

        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var left = multiplot.GetPlot(0);
        var right = multiplot.GetPlot(1);

        LineFigure.Draw(left, curves, new LineFigureOptions
        {
            Title = options.Title is null ? "Cyclic voltammograms" : options.Title,
            XLabel = "E (V vs Li/Li⁺)",
            YLabel = $"i ({unit})",
        }, factor);
        left.Add.HorizontalLine(0, 1, Colors.Gray, LinePattern.Dotted);

        FigureStyle.Apply(right, "Randles-Sevcik fit", "√v (√(V/s))", $"peak current iₚ ({unit})");
        for (var k = 0; k < fits.Count; k++)
        {
            var f = fits[k];
            if (f.SqrtScanRate.Length != f.PeakCurrentA.Length)
            {
                throw new ArgumentException($"Fit '{f.Label}': {f.SqrtScanRate.Length} rates but {f.PeakCurrentA.Length} peak currents.", nameof(fits));
            }
            var colour = FigureStyle.Palette[(f.Group ?? k) % FigureStyle.Palette.Length];
            var points = right.Add.Scatter(f.SqrtScanRate, f.PeakCurrentA.Select(v => v * factor).ToArray());
            points.Color = colour;
            points.LineWidth = 0;
            points.MarkerSize = 10;
            points.LegendText = f.Label;
            if (f.DrawLine && f.SqrtScanRate.Length > 0)
            {
                var x1 = f.SqrtScanRate.Max() * 1.05;
                var line = right.Add.Line(0, f.InterceptA * factor, x1, (f.InterceptA + (f.SlopeAPerSqrtVPerS * x1)) * factor);
                line.Color = colour;
                line.LineWidth = 1.5f;
                line.LinePattern = LinePattern.Dashed;
            }
        }
        right.Legend.IsVisible = fits.Count > 0;
        right.Legend.Alignment = Alignment.UpperLeft;
        right.Axes.SetLimitsX(0, fits.SelectMany(f => f.SqrtScanRate).Where(double.IsFinite).DefaultIfEmpty(1).Max() * 1.1);
        right.Axes.AutoScaleY();

        using var image = multiplot.Render(options.WidthPx, options.HeightPx);
        return image.GetImageBytes(ImageFormat.Png, 100);
    }

    internal static (double Factor, string Unit) CurrentUnit(double peakA) => peakA switch
    {
        < 1e-9 => (1e12, "pA"),
        < 1e-6 => (1e9, "nA"),
        < 1e-3 => (1e6, "µA"),
        _ => (1e3, "mA"),
    };
}
