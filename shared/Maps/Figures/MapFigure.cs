using System.Globalization;
using ScottPlot;

namespace Seccm.Maps.Figures;

public enum MapColormap
{
    Viridis,
    Inferno,
    Magma,
    Turbo,
    Grayscale,
}

/// <summary>How to draw a map. Values are shown as <c>value * DisplayFactor</c> in <see cref="DisplayUnit"/>.</summary>
public sealed record MapFigureOptions
{
    /// <summary>Figure title; default the map name.</summary>
    public string? Title { get; init; }

    /// <summary>Quantity on the colour bar, e.g. "D"; the unit is appended. Default the map name.</summary>
    public string? Quantity { get; init; }

    /// <summary>Unit shown; default the map's unit (then <see cref="DisplayFactor"/> should be 1).</summary>
    public string? DisplayUnit { get; init; }

    public double DisplayFactor { get; init; } = 1;

    /// <summary>Colour by log10 of the value (non-positive values become no-data), ticks labelled like 1e-11.</summary>
    public bool Log10 { get; init; }

    /// <summary>Colour range in display units; default the data range (a robust 1-99 % range when <see cref="ClipPercentiles"/>).</summary>
    public double? Min { get; init; }

    public double? Max { get; init; }

    /// <summary>Ignore the lowest and highest 1 % when choosing the colour range, so one bad pixel does not wash out the map.</summary>
    public bool ClipPercentiles { get; init; }

    public MapColormap Colormap { get; init; } = MapColormap.Viridis;

    /// <summary>Scale bar length in um; default a 1-2-5 length near a fifth of the map width; 0 hides it.</summary>
    public double? ScaleBarUm { get; init; }

    public int WidthPx { get; init; } = 800;

    public int HeightPx { get; init; } = 700;

    /// <summary>A D map: log colour scale in cm^2/s from values in m^2/s.</summary>
    public static MapFigureOptions DiffusionFromM2PerS(string title = "Diffusion coefficient") =>
        new() { Title = title, Quantity = "D", DisplayUnit = "cm²/s", DisplayFactor = 1e4, Log10 = true };

    /// <summary>A height map in nm from values in metres.</summary>
    public static MapFigureOptions TopographyFromM(string title = "Topography") =>
        new() { Title = title, Quantity = "height", DisplayUnit = "nm", DisplayFactor = 1e9, Colormap = MapColormap.Inferno };

    /// <summary>A current map in pA from values in amperes.</summary>
    public static MapFigureOptions CurrentFromA(string title = "Current") =>
        new() { Title = title, Quantity = "i", DisplayUnit = "pA", DisplayFactor = 1e12 };
}

/// <summary>
/// PNG heat maps of a <see cref="MapGrid"/>: axes in um with square pixels, y up (row 0 at the bottom), a colour bar
/// with quantity and unit, a scale bar, grey for no-data pixels.
/// </summary>
public static class MapFigure
{
    private static readonly Color NoDataColor = Color.FromHex("#BDBDBD");

    public static void Save(string path, MapGrid map, MapFigureOptions? options = null) =>
        FigureStyle.Save(path, Render(map, options));

    public static byte[] Render(MapGrid map, MapFigureOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        options ??= new MapFigureOptions();
        FigureStyle.CheckSize(options.WidthPx, options.HeightPx);
        var unit = options.DisplayUnit ?? map.Unit;
        var quantity = options.Quantity ?? map.Name;

        // ScottPlot draws row 0 of the intensity array at the top; our row 0 is the lowest y.
        var shown = new double[map.Ny, map.Nx];
        var finite = new List<double>(map.Values.Length);
        var anyMissing = false;
        for (var iy = 0; iy < map.Ny; iy++)
        {
            for (var ix = 0; ix < map.Nx; ix++)
            {
                var v = map[ix, iy] * options.DisplayFactor;
                if (options.Log10)
                {
                    v = v > 0 ? Math.Log10(v) : double.NaN;
                }
                if (double.IsFinite(v))
                {
                    finite.Add(v);
                }
                else
                {
                    v = double.NaN;
                    anyMissing = true;
                }
                shown[map.Ny - 1 - iy, ix] = v;
            }
        }

        var plot = new Plot();
        FigureStyle.Apply(plot, options.Title ?? map.Name, "x (µm)", "y (µm)");
        var extent = new CoordinateRect(map.XOriginUm, map.XOriginUm + map.XRealUm, map.YOriginUm, map.YOriginUm + map.YRealUm);
        if (finite.Count > 0 && ColourRange(finite, options) is { } range)
        {
            var heatmap = plot.Add.Heatmap(shown);
            heatmap.Rectangle = extent;
            heatmap.NaNCellColor = NoDataColor;
            heatmap.Colormap = Colormap(options.Colormap);
            heatmap.ManualRange = new ScottPlot.Range(range.Min, range.Max);
            AddColourBar(plot, heatmap, options, range, quantity, unit);
        }
        else
        {
            // Nothing to colour (and ScottPlot cannot range an all-NaN heat map): the whole map is no-data grey,
            // without a colour bar that would show a made-up range.
            var empty = plot.Add.Rectangle(extent.Left, extent.Right, extent.Bottom, extent.Top);
            empty.FillColor = NoDataColor;
            empty.LineWidth = 0;
        }

        var scaleBarUm = options.ScaleBarUm ?? FigureStyle.NiceLength(map.XRealUm / 5);
        if (scaleBarUm > 0)
        {
            AddScaleBar(plot, map, scaleBarUm);
        }
        if (anyMissing)
        {
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = "no data",
                FillColor = NoDataColor,
                LineColor = Colors.Black,
                LineWidth = 1,
            });
            plot.Legend.IsVisible = true;
            plot.Legend.Alignment = Alignment.UpperRight;
            plot.Legend.OutlineColor = Colors.Black;
        }

        plot.Axes.SetLimits(map.XOriginUm, map.XOriginUm + map.XRealUm, map.YOriginUm, map.YOriginUm + map.YRealUm);
        plot.Layout.Fixed(SquarePixelPadding(map, options.WidthPx, options.HeightPx));
        return FigureStyle.Png(plot, options.WidthPx, options.HeightPx);
    }

    private static void AddColourBar(Plot plot, ScottPlot.Plottables.Heatmap heatmap, MapFigureOptions options,
        (double Min, double Max) range, string quantity, string unit)
    {
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = string.IsNullOrEmpty(unit) ? quantity : $"{quantity} ({unit})";
        colorBar.LabelStyle.FontSize = FigureStyle.LabelSize;
        colorBar.LabelStyle.Bold = false;
        colorBar.LabelStyle.FontName = FigureStyle.SansFont;
        colorBar.Axis.TickLabelStyle.FontName = FigureStyle.SansFont;
        colorBar.Axis.TickLabelStyle.FontSize = FigureStyle.TickSize;
        colorBar.Axis.TickGenerator = options.Log10
            ? LogTicks(range.Min, range.Max)
            : new ScottPlot.TickGenerators.NumericAutomatic { MinimumTickSpacing = 40 };
    }

    /// <summary>
    /// Margins that make the data area exactly the map's aspect ratio (square pixels, no empty strip beside the
    /// map), centred in the space left by the axis labels, the title and the colour bar.
    /// </summary>
    private static PixelPadding SquarePixelPadding(MapGrid map, int widthPx, int heightPx)
    {
        const float left = 80, right = 150, bottom = 70, top = 50;
        var availableW = widthPx - left - right;
        var availableH = heightPx - top - bottom;
        var aspect = map.XRealUm / map.YRealUm;
        float w = availableW, h = availableH;
        if (availableW / availableH > aspect)
        {
            w = (float)(availableH * aspect);
        }
        else
        {
            h = (float)(availableW / aspect);
        }
        var extraW = (availableW - w) / 2;
        var extraH = (availableH - h) / 2;
        return new PixelPadding(left + extraW, right + extraW, bottom + extraH, top + extraH);
    }

    private static (double Min, double Max)? ColourRange(List<double> finite, MapFigureOptions options)
    {
        double Transform(double v) => options.Log10 ? (v > 0 ? Math.Log10(v) : double.NaN) : v;
        double? min = options.Min is { } mn ? Transform(mn) : null;
        double? max = options.Max is { } mx ? Transform(mx) : null;
        if (finite.Count == 0 && (min is null || max is null))
        {
            return null;
        }
        if (min is null || max is null)
        {
            finite.Sort();
            var lo = options.ClipPercentiles ? finite[(int)Math.Floor(0.01 * (finite.Count - 1))] : finite[0];
            var hi = options.ClipPercentiles ? finite[(int)Math.Ceiling(0.99 * (finite.Count - 1))] : finite[^1];
            min ??= lo;
            max ??= hi;
        }
        if (!(max > min))
        {
            // A flat map still needs a colour bar with a span.
            var half = Math.Abs(min.Value) * 0.01 + (options.Log10 ? 0.1 : 1e-300);
            return (min.Value - half, min.Value + half);
        }
        return (min.Value, max.Value);
    }

    private static IColormap Colormap(MapColormap colormap) => colormap switch
    {
        MapColormap.Inferno => new ScottPlot.Colormaps.Inferno(),
        MapColormap.Magma => new ScottPlot.Colormaps.Magma(),
        MapColormap.Turbo => new ScottPlot.Colormaps.Turbo(),
        MapColormap.Grayscale => new ScottPlot.Colormaps.Grayscale(),
        _ => new ScottPlot.Colormaps.Viridis(),
    };

    /// <summary>Ticks at decades (and at 2x, 5x when the range spans few decades), labelled in the value's own units like 1e-11.</summary>
    internal static ScottPlot.TickGenerators.NumericManual LogTicks(double log10Min, double log10Max) =>
        new([.. LogTickList(log10Min, log10Max)]);

    internal static List<Tick> LogTickList(double log10Min, double log10Max)
    {
        var ticks = new List<Tick>();
        var span = log10Max - log10Min;
        int[] multipliers = span < 1.2 ? [1, 2, 3, 5, 7] : span < 3 ? [1, 2, 5] : [1];
        for (var decade = (int)Math.Floor(log10Min) - 1; decade <= (int)Math.Ceiling(log10Max); decade++)
        {
            for (var m = 1; m <= 9; m++)
            {
                var position = decade + Math.Log10(m);
                if (position < log10Min - 1e-9 || position > log10Max + 1e-9)
                {
                    continue;
                }
                ticks.Add(multipliers.Contains(m) ? Tick.Major(position, LogLabel(m, decade)) : Tick.Minor(position));
            }
        }
        if (ticks.Count(t => t.IsMajor) < 2)
        {
            // Narrow ranges: label the ends so the bar is never without numbers.
            ticks.Add(Tick.Major(log10Min, FormatSig(Math.Pow(10, log10Min))));
            ticks.Add(Tick.Major(log10Max, FormatSig(Math.Pow(10, log10Max))));
        }
        return ticks;
    }

    private static string LogLabel(int multiplier, int decade) =>
        string.Create(CultureInfo.InvariantCulture, $"{multiplier}e{decade}");

    private static string FormatSig(double value) => value.ToString("0.##e0", CultureInfo.InvariantCulture);

    private static void AddScaleBar(Plot plot, MapGrid map, double lengthUm)
    {
        // Drawn as data so it scales with the map: a white bar with a dark outline reads on any colour map.
        var x1 = map.XOriginUm + map.XRealUm - (0.05 * map.XRealUm);
        var x0 = x1 - lengthUm;
        var y = map.YOriginUm + (0.06 * map.YRealUm);
        var thickness = 0.018 * map.YRealUm;
        var bar = plot.Add.Rectangle(x0, x1, y, y + thickness);
        bar.FillColor = Colors.White;
        bar.LineColor = Colors.Black;
        bar.LineWidth = 1.5f;
        var label = plot.Add.Text(FormatLength(lengthUm), (x0 + x1) / 2, y + thickness);
        label.LabelFontSize = FigureStyle.TickSize;
        label.LabelFontName = FigureStyle.SansFont;
        label.LabelFontColor = Colors.Black;
        label.LabelBold = true;
        label.LabelAlignment = Alignment.LowerCenter;
        label.LabelBackgroundColor = Colors.White.WithAlpha(0.75);
        label.LabelPadding = 2;
        label.OffsetY = -4;
    }

    private static string FormatLength(double um) =>
        um >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{um:0.###} µm") : string.Create(CultureInfo.InvariantCulture, $"{um * 1000:0.###} nm");
}
