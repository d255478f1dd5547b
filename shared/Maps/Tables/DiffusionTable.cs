using System.Text.Json.Nodes;

namespace Seccm.Maps.Tables;

/// <summary>
/// One pixel of a diffusion map as every writer of <c>diffusion_map.csv</c> puts it (<c>seccm analyze</c> and the
/// diffusion service): NaN or "" where a writer has no value (no topography offline, no D without contact).
/// </summary>
public sealed record DiffusionPixelRow(int Ix, int Iy, int Index)
{
    public double XUm { get; init; } = double.NaN;
    public double YUm { get; init; } = double.NaN;
    /// <summary>Best estimate of D (from <see cref="Method"/>), cm^2/s.</summary>
    public double DCm2PerS { get; init; } = double.NaN;
    /// <summary>R^2 of the Randles-Sevcik line of <see cref="DRsCm2PerS"/>.</summary>
    public double RSquared { get; init; } = double.NaN;
    /// <summary>Warnings: "ok" or names joined with '|'.</summary>
    public string Flag { get; init; } = "ok";
    /// <summary>Plain Randles-Sevcik D on the forward peak currents over the linear range (the paper's method), cm^2/s.</summary>
    public double DRsCm2PerS { get; init; } = double.NaN;
    public string Method { get; init; } = "";
    /// <summary>Information flags ("" or names joined with '|').</summary>
    public string Info { get; init; } = "";
    /// <summary>Rates left out of the Randles-Sevcik line, each with its reason.</summary>
    public string RatesDropped { get; init; } = "";
    public double Alpha { get; init; } = double.NaN;
    public double DoubleLayerF { get; init; } = double.NaN;
    /// <summary>Uncompensated resistance of the model that gave D, ohm: fitted or given (NaN: the model had none).</summary>
    public double UncompensatedResistanceOhm { get; init; } = double.NaN;
    /// <summary>Peak separation at the fastest rate used, V.</summary>
    public double DeltaEpV { get; init; } = double.NaN;
    public double K0CmPerS { get; init; } = double.NaN;
    public double ContactZUm { get; init; } = double.NaN;
    public double TopographyNm { get; init; } = double.NaN;
    public int RatesUsed { get; init; }
    public double SlopeAPerSqrtVPerS { get; init; } = double.NaN;
    public double MeanCurrentA { get; init; } = double.NaN;
    /// <summary>Which measurement of the pixel was analysed (0 the first; a pixel measured again: its last complete take).</summary>
    public int Take { get; init; }

    /// <summary>Not a column: whether the pipette touched down (false: no D and no current expected).</summary>
    public bool Contact { get; init; } = true;

    /// <summary>Not a column: the points of the Randles-Sevcik line drawn in the example CVs (sqrt(v), corrected |ip|).</summary>
    public PeakFitPoints FitPoints { get; init; } = PeakFitPoints.None;

    /// <summary>Not a column: the scan rates of the pixel's curves, V/s.</summary>
    public IReadOnlyList<double> ScanRatesVPerS { get; init; } = [];
}

/// <summary>The peak currents a pixel's Randles-Sevcik line went through, as the example-CV figure draws them.</summary>
public sealed record PeakFitPoints(double[] SqrtScanRate, double[] PeakCurrentA)
{
    public static readonly PeakFitPoints None = new([], []);

    /// <summary>
    /// The forward-peak currents at the rates used, corrected for kinetics as the analysis does
    /// (|ip| / <see cref="Seccm.Electrochemistry.Analysis.KineticWorkingCurve.PeakCurrentFactor"/> of n dEp).
    /// </summary>
    public static PeakFitPoints Of(IEnumerable<(double ScanRateVPerS, double IpA, double DeltaEpV)> peaks, IReadOnlyCollection<double> ratesUsedVPerS, int n)
    {
        ArgumentNullException.ThrowIfNull(peaks);
        var used = peaks.Where(p => double.IsFinite(p.IpA) && ratesUsedVPerS.Contains(p.ScanRateVPerS)).ToArray();
        return new PeakFitPoints(
            used.Select(p => Math.Sqrt(p.ScanRateVPerS)).ToArray(),
            used.Select(p => Math.Abs(p.IpA) / Seccm.Electrochemistry.Analysis.KineticWorkingCurve.PeakCurrentFactor((double.IsFinite(p.DeltaEpV) ? p.DeltaEpV : 0) * n)).ToArray());
    }
}

/// <summary>The one layout of <c>diffusion_map.csv</c> (and HDF5 <c>/pixels</c>) and the D statistics of <c>summary.json</c>.</summary>
public static class DiffusionTable
{
    public static PixelTable Build(IReadOnlyList<DiffusionPixelRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        T[] Of<T>(Func<DiffusionPixelRow, T> value) => rows.Select(value).ToArray();
        return new PixelTable(rows.Count)
            .Add("pixel_x", Of(r => r.Ix))
            .Add("pixel_y", Of(r => r.Iy))
            .Add("d_cm2_s", Of(r => r.DCm2PerS), "cm^2/s")
            .Add("r2", Of(r => r.RSquared))
            .Add("flag", Of(r => r.Flag))
            .Add("d_rs_cm2_s", Of(r => r.DRsCm2PerS), "cm^2/s")
            .Add("method", Of(r => r.Method))
            .Add("info", Of(r => r.Info))
            .Add("rates_dropped", Of(r => r.RatesDropped))
            .Add("alpha", Of(r => r.Alpha))
            .Add("c_dl_f", Of(r => r.DoubleLayerF), "F")
            .Add("r_u_ohm", Of(r => r.UncompensatedResistanceOhm), "ohm")
            .Add("x_um", Of(r => r.XUm), "um")
            .Add("y_um", Of(r => r.YUm), "um")
            .Add("dep_v", Of(r => r.DeltaEpV), "V")
            .Add("k0_cm_s", Of(r => r.K0CmPerS), "cm/s")
            .Add("contact_z_um", Of(r => r.ContactZUm), "um")
            .Add("topography_nm", Of(r => r.TopographyNm), "nm")
            .Add("rates_used", Of(r => r.RatesUsed))
            .Add("slope_a_per_sqrt_v_s", Of(r => r.SlopeAPerSqrtVPerS), "A/(V/s)^0.5")
            .Add("current_a", Of(r => r.MeanCurrentA), "A")
            .Add("pixel", Of(r => r.Index))
            .Add("take", Of(r => r.Take));
    }

    /// <summary>
    /// The D statistics every <c>summary.json</c> carries: pixels, pixels_with_d, median/min/max of d_cm2_s, median of
    /// d_rs_cm2_s, flagged_pixels (warnings only: an information flag is not a doubt about the number).
    /// </summary>
    /// <summary>How many pixels each model gave d_cm2_s (<c>method</c>), e.g. {"bv_wave_fit": 250, "bv_ir_semi_integral_fit": 6}.</summary>
    private static JsonObject Methods(IReadOnlyList<DiffusionPixelRow> rows)
    {
        var methods = new JsonObject();
        foreach (var group in rows.Where(r => r.Method.Length > 0).GroupBy(r => r.Method).OrderBy(g => g.Key, StringComparer.Ordinal)) methods[group.Key] = group.Count();
        return methods;
    }

    public static JsonObject Statistics(IReadOnlyList<DiffusionPixelRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var d = rows.Select(r => r.DCm2PerS).Where(double.IsFinite).Order().ToArray();
        var rs = rows.Select(r => r.DRsCm2PerS).Where(double.IsFinite).Order().ToArray();
        return new JsonObject
        {
            ["pixels"] = rows.Count,
            ["pixels_with_d"] = d.Length,
            ["median_d_cm2_s"] = SummaryJson.Number(Median(d)),
            ["min_d_cm2_s"] = SummaryJson.Number(d.Length > 0 ? d[0] : double.NaN),
            ["max_d_cm2_s"] = SummaryJson.Number(d.Length > 0 ? d[^1] : double.NaN),
            ["median_d_rs_cm2_s"] = SummaryJson.Number(Median(rs)),
            ["flagged_pixels"] = rows.Count(r => r.Flag != "ok"),
            ["median_r_u_ohm"] = SummaryJson.Number(Median(rows.Select(r => r.UncompensatedResistanceOhm).Where(double.IsFinite).Order().ToArray())),
            ["methods"] = Methods(rows),
        };
    }

    /// <summary>Median of the values (<see cref="MapStatistics.Median"/>); NaN when empty.</summary>
    public static double Median(double[] values) => MapStatistics.Median(values);
}
