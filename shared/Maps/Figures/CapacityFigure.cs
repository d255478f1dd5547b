using ScottPlot;

namespace Seccm.Maps.Figures;

/// <summary>One half-cycle of a galvanostatic charge/discharge: potential against capacity.</summary>
public sealed record ChargeDischargeCurve(string Label, double[] Capacity, double[] PotentialV, bool IsCharge);

/// <summary>Potential-vs-capacity figure: charge curves warm, discharge curves cool, later cycles darker.</summary>
public static class CapacityFigure
{
    private static readonly Color Charge = Color.FromHex("#D55E00");
    private static readonly Color Discharge = Color.FromHex("#0072B2");

    public static void Save(string path, IReadOnlyList<ChargeDischargeCurve> curves, string capacityUnit = "µAh", string? title = null) =>
        FigureStyle.Save(path, Render(curves, capacityUnit, title));

    public static byte[] Render(IReadOnlyList<ChargeDischargeCurve> curves, string capacityUnit = "µAh", string? title = null, int widthPx = 800, int heightPx = 600)
    {
        ArgumentNullException.ThrowIfNull(curves);
        FigureStyle.CheckSize(widthPx, heightPx);
        var series = curves.Select(c => new XySeries(c.Label, c.Capacity, c.PotentialV)).ToList();
        int charges = curves.Count(c => c.IsCharge), discharges = curves.Count - charges;
        var seenCharge = 0;
        var seenDischarge = 0;
        var plot = new Plot();
        LineFigure.Draw(plot, series, new LineFigureOptions
        {
            Title = title ?? "Charge / discharge",
            XLabel = $"capacity ({capacityUnit})",
            YLabel = "E (V vs Li/Li⁺)",
            LegendAlignment = Alignment.LowerRight,
        }, colour: (_, i) =>
        {
            // Later cycles fade in, so the evolution of the curves reads without a legend.
            var isCharge = curves[i].IsCharge;
            var index = isCharge ? seenCharge++ : seenDischarge++;
            var total = isCharge ? charges : discharges;
            var alpha = total <= 1 ? 1 : 0.35 + (0.65 * index / (total - 1));
            return (isCharge ? Charge : Discharge).WithAlpha(alpha);
        });
        return FigureStyle.Png(plot, widthPx, heightPx);
    }
}
