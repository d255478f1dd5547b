using ScottPlot;
using Seccm.Maps.Tables;

namespace Seccm.Maps.Figures;

/// <summary>One look for every figure: white background, fonts readable on a printed page at 800 px width.</summary>
internal static class FigureStyle
{
    public const float TitleSize = 22;
    public const float LabelSize = 20;
    public const float TickSize = 16;
    public const float LegendSize = 15;

    public static void Apply(Plot plot, string? title, string xLabel, string yLabel)
    {
        plot.Font.Set(SansFont);
        plot.FigureBackground.Color = Colors.White;
        plot.DataBackground.Color = Colors.White;
        if (!string.IsNullOrEmpty(title))
        {
            plot.Title(title, TitleSize);
            plot.Axes.Title.Label.Bold = false;
        }
        plot.Axes.Bottom.Label.Text = xLabel;
        plot.Axes.Left.Label.Text = yLabel;
        foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left })
        {
            axis.Label.FontSize = LabelSize;
            axis.Label.Bold = false;
            axis.TickLabelStyle.FontSize = TickSize;
            axis.MajorTickStyle.Length = 6;
            axis.MinorTickStyle.Length = 3;
        }
        plot.Legend.FontSize = LegendSize;
    }

    /// <summary>
    /// A sans-serif family that is installed, else ScottPlot's default. Text needs some system font: a container
    /// image must install one (e.g. Debian's fonts-dejavu-core).
    /// </summary>
    public static readonly string SansFont = FindFont(["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans"]);

    private static string FindFont(string[] families)
    {
        foreach (var family in families)
        {
            using var typeface = SkiaSharp.SKTypeface.FromFamilyName(family);
            if (typeface is not null && string.Equals(typeface.FamilyName, family, StringComparison.OrdinalIgnoreCase))
            {
                return family;
            }
        }
        return Fonts.Default;
    }

    public static byte[] Png(Plot plot, int widthPx, int heightPx)
    {
        CheckSize(widthPx, heightPx);
        return plot.GetImageBytes(widthPx, heightPx, ImageFormat.Png);
    }

    public static void Save(string path, byte[] png) => AtomicFile.WriteAllBytes(path, png);

    public static void CheckSize(int widthPx, int heightPx)
    {
        if (widthPx < 200 || heightPx < 200 || widthPx > 10_000 || heightPx > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(widthPx), $"Figure size {widthPx} x {heightPx} px: each side must be 200 to 10000 px.");
        }
    }

    /// <summary>Colours that stay apart in print and for colour-blind readers (Okabe-Ito, black first skipped).</summary>
    public static readonly Color[] Palette =
    [
        Color.FromHex("#0072B2"), Color.FromHex("#D55E00"), Color.FromHex("#009E73"), Color.FromHex("#CC79A7"),
        Color.FromHex("#E69F00"), Color.FromHex("#56B4E9"), Color.FromHex("#000000"), Color.FromHex("#F0E442"),
    ];

    /// <summary>A "1, 2, 5 x 10^n" length near <paramref name="target"/>, for scale bars.</summary>
    public static double NiceLength(double target)
    {
        var decade = Math.Pow(10, Math.Floor(Math.Log10(target)));
        var m = target / decade;
        return (m >= 5 ? 5 : m >= 2 ? 2 : 1) * decade;
    }

    public static string FormatNumber(double value) =>
        value.ToString(Math.Abs(value) >= 1e4 || (Math.Abs(value) < 1e-3 && value != 0) ? "0.##e0" : "0.###", System.Globalization.CultureInfo.InvariantCulture);
}
