using System.Text.Json.Nodes;
using Seccm.Contracts.Diffusion;
using Seccm.Maps.Figures;
using Seccm.Maps.Gsf;
using Seccm.Maps.Hdf5;
using Seccm.Maps.Tables;
using FileCurve = Seccm.Maps.LongCsv.CvCurve;

namespace Seccm.Maps.Export;

/// <summary>The geometry of the maps: pixel counts, pitch and the outer corner of pixel (0, 0).</summary>
public sealed record MapGeometry(int Nx, int Ny, double PitchXUm, double PitchYUm, double XOriginUm, double YOriginUm)
{
    /// <summary>
    /// From the pixels' grid indices and positions (a scan's planned pixels, else the rows), at least
    /// <paramref name="nx"/> x <paramref name="ny"/>; the pitch given, else the median step between the positions.
    /// </summary>
    public static MapGeometry Of(IReadOnlyList<(int Ix, int Iy, double XUm, double YUm)> points, int nx = 0, int ny = 0, double? pitchUm = null)
    {
        ArgumentNullException.ThrowIfNull(points);
        nx = Math.Max(nx, points.Select(p => p.Ix + 1).DefaultIfEmpty(1).Max());
        ny = Math.Max(ny, points.Select(p => p.Iy + 1).DefaultIfEmpty(1).Max());
        var px = pitchUm ?? Pitch(points.Select(p => (p.Ix, p.XUm)));
        var py = pitchUm ?? Pitch(points.Select(p => (p.Iy, p.YUm)));
        // Origin is the outer corner of pixel (0, 0): its centre minus half a pitch.
        var x0 = points.Count == 0 ? 0 : points.Min(p => p.XUm - (p.Ix * px)) - (px / 2);
        var y0 = points.Count == 0 ? 0 : points.Min(p => p.YUm - (p.Iy * py)) - (py / 2);
        return new MapGeometry(nx, ny, px, py, x0, y0);
    }

    private static double Pitch(IEnumerable<(int I, double Um)> points)
    {
        var list = points.ToArray();
        var steps = list.SelectMany(a => list.Where(b => b.I > a.I).Select(b => Math.Abs(b.Um - a.Um) / (b.I - a.I)))
            .Where(s => s > 0 && double.IsFinite(s)).Take(1000).ToArray();
        return steps.Length == 0 ? 1 : steps.Order().ElementAt(steps.Length / 2);
    }

    public MapGrid Map(string name, string unit, IEnumerable<DiffusionPixelRow> rows, Func<DiffusionPixelRow, double> value)
    {
        var values = new double[Nx * Ny];
        Array.Fill(values, double.NaN);
        foreach (var r in rows)
        {
            values[(r.Iy * Nx) + r.Ix] = value(r);
        }
        return new MapGrid(name, unit, Nx, Ny, PitchXUm, PitchYUm, values, XOriginUm, YOriginUm);
    }
}

/// <summary>What one export writes from: the pixel rows, their geometry, the raw curves and what is known of the scan.</summary>
public sealed record MapExportInput
{
    /// <summary>The technique of hold scans (a current map instead of D maps).</summary>
    public const string HoldTechnique = "hold";

    public required string ScanId { get; init; }

    public required IReadOnlyList<DiffusionPixelRow> Rows { get; init; }

    public required MapGeometry Geometry { get; init; }

    /// <summary>"cv" or <see cref="HoldTechnique"/>.</summary>
    public string Technique { get; init; } = "cv";

    public string Instrument { get; init; } = "";

    /// <summary>Who wrote the files (HDF5 attribute <c>software</c>).</summary>
    public string Software { get; init; } = "";

    /// <summary>
    /// The raw curves, re-readable and lazy (enumerated for scan.h5 twice and once more for the example CVs): a spill
    /// file or <c>LongCsvReader.ReadCurves(path)</c>. Empty: no curves in scan.h5 and no example CVs.
    /// </summary>
    public IEnumerable<FileCurve> Curves { get; init; } = [];

    /// <summary>Live scans only: the recipe's name, sample and start (HDF5 attributes; "" when unknown).</summary>
    public string RecipeName { get; init; } = "";

    public string Sample { get; init; } = "";

    public DateTimeOffset? StartedUtc { get; init; }

    public string? RecipeJson { get; init; }

    /// <summary>The scan rates planned (else those the rows' curves have), V/s.</summary>
    public IReadOnlyList<double>? ScanRatesVPerS { get; init; }

    /// <summary>How many pixels the example-CV figure shows (min, median, max D for 3).</summary>
    public int ExampleCvPixels { get; init; } = 3;
}

/// <summary>
/// The one writer of a diffusion map's files (<c>seccm analyze</c> and the diffusion service), each atomically: PNG
/// figures, <c>diffusion_map.csv</c> (<see cref="DiffusionTable"/>), one Gwyddion .gsf per map, <c>scan.h5</c> with maps,
/// pixel table, raw curves and recipe, and <c>summary.json</c>. Topography is the contact height, plane-levelled (NaN
/// without contact heights).
/// </summary>
public static class MapExport
{
    public static (IReadOnlyList<string> Files, ExportSummary Summary) Write(MapExportInput input, string directory)
    {
        ArgumentNullException.ThrowIfNull(input);
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        string Put(string name)
        {
            files.Add(name);
            return Path.Combine(directory, name);
        }

        var geometry = input.Geometry;
        var sorted = input.Rows.OrderBy(r => r.Iy).ThenBy(r => r.Ix).ToArray();
        var hold = input.Technique == MapExportInput.HoldTechnique;
        var rawTopography = geometry.Map("topography_raw", "nm", sorted, r => r.ContactZUm * 1000);
        var topography = Level(rawTopography);
        var rows = sorted.Select(r => r with { TopographyNm = topography[r.Ix, r.Iy] }).ToArray();

        var maps = new List<MapGrid>();
        if (hold)
        {
            var current = geometry.Map("current", "A", rows, r => r.MeanCurrentA);
            maps.Add(current);
            MapFigure.Save(Put("current_map.png"), current, MapFigureOptions.CurrentFromA("Current (mean of the hold's tail)"));
            GsfFormat.Write(Put("current_map.gsf"), current, zUnits: "A");
        }
        else
        {
            var d = geometry.Map("diffusion", "cm^2/s", rows, r => r.DCm2PerS);
            var dep = geometry.Map("dep", "V", rows, r => r.DeltaEpV);
            var k0 = geometry.Map("k0", "cm/s", rows, r => r.K0CmPerS);
            maps.AddRange([d, dep, k0]);
            MapFigure.Save(Put("diffusion_map.png"), d, new MapFigureOptions
            {
                Title = "Diffusion coefficient (best estimate)", Quantity = "D", DisplayUnit = "cm²/s", Log10 = true,
            });
            MapFigure.Save(Put("dep_map.png"), dep, new MapFigureOptions
            {
                Title = "Peak separation at the fastest rate used", Quantity = "ΔEp", DisplayUnit = "mV", DisplayFactor = 1e3,
            });
            MapFigure.Save(Put("k0_map.png"), k0, new MapFigureOptions
            {
                Title = "Standard rate constant (Nicholson)", Quantity = "k0", DisplayUnit = "cm/s", Log10 = true,
            });
            // Gwyddion gets SI: m^2/s and m/s.
            GsfFormat.Write(Put("diffusion_map.gsf"), d, zFactor: 1e-4, zUnits: "m^2/s");
            GsfFormat.Write(Put("dep_map.gsf"), dep, zUnits: "V");
            GsfFormat.Write(Put("k0_map.gsf"), k0, zFactor: 1e-2, zUnits: "m/s");
            var finiteD = rows.Select(r => r.DCm2PerS).Where(double.IsFinite).ToArray();
            if (finiteD.Length > 0)
            {
                HistogramFigure.Save(Put("d_histogram.png"), finiteD, new HistogramOptions
                {
                    Title = "Diffusion coefficient", Quantity = "D", DisplayUnit = "cm²/s", LogBins = true,
                });
            }
            if (ExampleCvs(rows, input.Curves, input.ExampleCvPixels) is { } examples)
            {
                CvFigure.Save(Put("example_cvs.png"), examples.Curves, examples.Fits,
                    new CvFigureOptions { Title = "Example CVs (min, median, max D)" });
            }
        }
        maps.Add(topography);
        maps.Add(rawTopography);
        MapFigure.Save(Put("topography.png"), topography, new MapFigureOptions
        {
            Title = "Topography (contact height, plane-levelled)", Quantity = "height", DisplayUnit = "nm", Colormap = MapColormap.Inferno,
        });
        GsfFormat.Write(Put("topography.gsf"), topography, zFactor: 1e-9, zUnits: "m");
        GsfFormat.Write(Put("topography_raw.gsf"), rawTopography, zFactor: 1e-9, zUnits: "m");

        var table = DiffusionTable.Build(rows);
        PixelTableCsv.Write(Put("diffusion_map.csv"), table);

        ScanHdf5.Write(Put("scan.h5"), new ScanHdf5Content
        {
            ScanId = input.ScanId,
            Instrument = input.Instrument,
            Attributes = new Dictionary<string, string>
            {
                ["technique"] = input.Technique,
                ["recipe_name"] = input.RecipeName,
                ["sample"] = input.Sample,
                ["started_utc"] = input.StartedUtc?.ToString("O") ?? "",
                ["software"] = input.Software,
                ["map_units"] = "diffusion cm^2/s, dep V, k0 cm/s, current A, topography nm",
            },
            Maps = maps,
            Pixels = table,
            Curves = input.Curves,
            RecipeJson = input.RecipeJson,
        });

        var summary = Summarise(rows, input);
        // The scan's keys first, then the D statistics of the table.
        var node = SummaryNode(input.ScanId, summary);
        foreach (var (key, value) in DiffusionTable.Statistics(rows))
        {
            if (!node.ContainsKey(key)) node[key] = value?.DeepClone();
        }
        SummaryJson.Write(Put("summary.json"), node);
        return (files, summary);
    }

    private static MapGrid Level(MapGrid raw)
    {
        var finite = raw.Values.Count(double.IsFinite);
        try
        {
            if (finite < 3)
            {
                return raw.With(raw.Values, "topography");
            }
            var levelled = Topography.LevelPlane(raw).Levelled;
            return levelled.With(levelled.Values, "topography");
        }
        catch (ArgumentException)
        {
            // Fewer than three pixels off one line: no plane to remove.
            return raw.With(raw.Values, "topography");
        }
        catch (InvalidOperationException)
        {
            return raw.With(raw.Values, "topography");
        }
    }

    private static (List<XySeries> Curves, List<PeakFitSeries> Fits)? ExampleCvs(DiffusionPixelRow[] rows, IEnumerable<FileCurve> source, int count)
    {
        // Examples of what the map shows: the unflagged pixels (a warned pixel, e.g. a mixed one on a grain boundary,
        // is often the extreme); all pixels when every one carries a warning.
        var finite = rows.Where(r => double.IsFinite(r.DCm2PerS)).ToArray();
        var withD = (finite.Any(r => r.Flag == "ok") ? finite.Where(r => r.Flag == "ok") : finite).OrderBy(r => r.DCm2PerS).ToArray();
        if (withD.Length == 0 || count <= 0)
        {
            return null;
        }
        var picks = (count == 1 ? [withD[withD.Length / 2]]
            : Enumerable.Range(0, count).Select(k => withD[(int)Math.Round(k * (withD.Length - 1) / (double)(count - 1))])).Distinct().ToArray();
        var group = picks.Select((r, g) => (Key: (r.Ix, r.Iy), g)).ToDictionary(p => p.Key, p => p.g);
        var curvesOf = picks.Select(_ => new List<FileCurve>()).ToArray();
        foreach (var c in source)
        {
            if (group.TryGetValue((c.PixelX, c.PixelY), out var g)) curvesOf[g].Add(c);
        }
        if (curvesOf.All(c => c.Count == 0))
        {
            return null;
        }
        var curves = new List<XySeries>();
        var fits = new List<PeakFitSeries>();
        for (var g = 0; g < picks.Length; g++)
        {
            var r = picks[g];
            var warning = r.Flag == "ok" ? "" : $" [{r.Flag}]";
            var label = $"({r.Ix}, {r.Iy}) D = {r.DCm2PerS:0.00e0} cm²/s{warning}";
            foreach (var c in curvesOf[g])
            {
                var cycle = c.SamplesPerCycle > 0 && c.Count > c.SamplesPerCycle ? c.SamplesPerCycle : c.Count;
                curves.Add(new XySeries(curves.Count(x => x.Group == g) == 0 ? label : "", c.PotentialV[..cycle], c.CurrentA[..cycle]) { Group = g });
            }
            var (x, y) = (r.FitPoints.SqrtScanRate, r.FitPoints.PeakCurrentA);
            var slope = r.SlopeAPerSqrtVPerS;
            // The least-squares intercept for that slope: the line passes through the centroid of the points.
            var intercept = x.Length == 0 ? 0 : y.Average() - (slope * x.Average());
            // The line is the Randles-Sevcik fit: its D is d_rs, not the best estimate of the left panel.
            fits.Add(new PeakFitSeries($"({r.Ix}, {r.Iy}) D_RS = {r.DRsCm2PerS:0.00e0} cm²/s{warning}", x, y, slope, intercept) { Group = g });
        }
        return (curves, fits);
    }

    private static ExportSummary Summarise(DiffusionPixelRow[] rows, MapExportInput input)
    {
        var d = rows.Select(r => r.DCm2PerS).Where(double.IsFinite).Order().ToArray();
        var dRs = rows.Select(r => r.DRsCm2PerS).Where(double.IsFinite).ToArray();
        double? mean = d.Length == 0 ? null : d.Average();
        double? sd = d.Length < 2 ? null : Math.Sqrt(d.Sum(v => (v - mean!.Value) * (v - mean.Value)) / (d.Length - 1));
        var withContact = rows.Where(r => r.Contact).ToArray();
        var currents = rows.Select(r => r.MeanCurrentA).Where(double.IsFinite).ToArray();
        var rates = input.ScanRatesVPerS ?? rows.SelectMany(r => r.ScanRatesVPerS).Distinct().Order().ToArray();
        var analysed = input.Technique == MapExportInput.HoldTechnique ? [] : withContact;
        return new ExportSummary(
            input.Technique,
            input.Geometry.Nx,
            input.Geometry.Ny,
            rows.Length,
            withContact.Length,
            d.Length,
            MapStatistics.MedianOrNull(d),
            mean,
            sd,
            withContact.Length == 0 ? 0 : (double)withContact.Count(r => r.Flag != "ok") / withContact.Length,
            currents.Length == 0 ? null : currents.Average(),
            rates,
            analysed.Length == 0 ? 0 : analysed.Average(r => r.RatesUsed))
        {
            MedianDRsCm2PerS = MapStatistics.MedianOrNull(dRs),
        };
    }

    private static JsonObject SummaryNode(string scanId, ExportSummary s) => new()
    {
        ["scan_id"] = scanId,
        ["technique"] = s.Technique,
        ["nx"] = s.Nx,
        ["ny"] = s.Ny,
        ["pixels"] = s.Pixels,
        ["pixels_with_contact"] = s.PixelsWithContact,
        ["pixels_with_d"] = s.PixelsWithD,
        ["median_d_cm2_s"] = SummaryJson.Number(s.MedianDCm2PerS ?? double.NaN),
        ["mean_d_cm2_s"] = SummaryJson.Number(s.MeanDCm2PerS ?? double.NaN),
        ["sd_d_cm2_s"] = SummaryJson.Number(s.SdDCm2PerS ?? double.NaN),
        ["fraction_flagged"] = SummaryJson.Number(s.FractionFlagged),
        ["mean_current_a"] = SummaryJson.Number(s.MeanCurrentA ?? double.NaN),
        ["scan_rates_v_s"] = new JsonArray(s.ScanRatesVPerS.Select(v => SummaryJson.Number(v)).ToArray()),
        ["mean_rates_used"] = SummaryJson.Number(s.MeanRatesUsed),
    };
}
