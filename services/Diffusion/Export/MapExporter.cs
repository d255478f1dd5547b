using System.Text.Json.Nodes;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Diffusion.Analysis;
using Seccm.Curves;
using Seccm.Diffusion.Assembly;
using Seccm.Electrochemistry.Analysis;
using Seccm.Maps;
using Seccm.Maps.Figures;
using Seccm.Maps.Gsf;
using Seccm.Maps.Hdf5;
using Seccm.Maps.Tables;
using FileCurve = Seccm.Maps.LongCsv.CvCurve;

namespace Seccm.Diffusion.Export;

/// <summary>Everything one export needs, copied out of the live state so the files are written without holding a lock.</summary>
internal sealed record ExportInput(
    string ScanId,
    string Instrument,
    ScanStartedEvent? Started,
    IReadOnlyList<PixelResultMessage> Results,
    CurveSpill? Spill,
    string Technique,
    int ExampleCvPixels);

/// <summary>The geometry of the maps: from the scan's started event, else from the pixel results themselves.</summary>
internal sealed record MapGeometry(int Nx, int Ny, double PitchXUm, double PitchYUm, double XOriginUm, double YOriginUm)
{
    public static MapGeometry Of(ScanStartedEvent? started, IReadOnlyList<PixelResultMessage> results)
    {
        var nx = Math.Max(started?.Nx ?? 0, results.Select(r => r.Ix + 1).DefaultIfEmpty(1).Max());
        var ny = Math.Max(started?.Ny ?? 0, results.Select(r => r.Iy + 1).DefaultIfEmpty(1).Max());
        var points = started?.Pixels.Select(p => (p.Ix, p.Iy, p.XUm, p.YUm)).ToArray()
                     ?? results.Select(r => (r.Ix, r.Iy, r.XUm, r.YUm)).ToArray();
        var pitch = started?.Recipe.Grid?.PitchUm;
        var px = pitch ?? Pitch(points.Select(p => (p.Ix, p.XUm)));
        var py = pitch ?? Pitch(points.Select(p => (p.Iy, p.YUm)));
        // Origin is the outer corner of pixel (0, 0): its centre minus half a pitch.
        var x0 = points.Length == 0 ? 0 : points.Min(p => p.XUm - (p.Ix * px)) - (px / 2);
        var y0 = points.Length == 0 ? 0 : points.Min(p => p.YUm - (p.Iy * py)) - (py / 2);
        return new MapGeometry(nx, ny, px, py, x0, y0);
    }

    private static double Pitch(IEnumerable<(int I, double Um)> points)
    {
        var list = points.ToArray();
        var steps = list.SelectMany(a => list.Where(b => b.I > a.I).Select(b => Math.Abs(b.Um - a.Um) / (b.I - a.I)))
            .Where(s => s > 0 && double.IsFinite(s)).Take(1000).ToArray();
        return steps.Length == 0 ? 1 : steps.Order().ElementAt(steps.Length / 2);
    }

    public MapGrid Map(string name, string unit, IReadOnlyList<PixelResultMessage> results, Func<PixelResultMessage, double?> value)
    {
        var values = new double[Nx * Ny];
        Array.Fill(values, double.NaN);
        foreach (var r in results)
        {
            values[(r.Iy * Nx) + r.Ix] = value(r) ?? double.NaN;
        }
        return new MapGrid(name, unit, Nx, Ny, PitchXUm, PitchYUm, values, XOriginUm, YOriginUm);
    }
}

/// <summary>
/// Writes a scan's map files into one directory, each atomically (readers see the old file or the new one):
/// PNG figures, <c>diffusion_map.csv</c> (header starting <c>pixel_x,pixel_y,d_cm2_s,r2,flag</c> like <c>seccm analyze</c>),
/// one Gwyddion .gsf per map, <c>scan.h5</c> with maps, pixel table, raw curves (streamed from the spill file) and recipe,
/// and <c>summary.json</c>.
/// </summary>
internal static class MapExporter
{
    public static (IReadOnlyList<string> Files, ExportSummary Summary) Export(ExportInput input, string directory)
    {
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        string Put(string name)
        {
            files.Add(name);
            return Path.Combine(directory, name);
        }

        var results = input.Results.OrderBy(r => r.Iy).ThenBy(r => r.Ix).ToArray();
        var geometry = MapGeometry.Of(input.Started, results);
        var hold = input.Technique == PixelAnalyzer.HoldTechnique;
        var rawTopography = geometry.Map("topography_raw", "nm", results, r => r.ContactZUm * 1000);
        var topography = Level(rawTopography);

        var maps = new List<MapGrid>();
        if (hold)
        {
            var current = geometry.Map("current", "A", results, r => r.MeanCurrentA);
            maps.Add(current);
            MapFigure.Save(Put("current_map.png"), current, MapFigureOptions.CurrentFromA("Current (mean of the hold's tail)"));
            GsfFormat.Write(Put("current_map.gsf"), current, zUnits: "A");
        }
        else
        {
            var d = geometry.Map("diffusion", "cm^2/s", results, r => r.DCm2PerS);
            var dep = geometry.Map("dep", "V", results, r => r.DeltaEpV);
            var k0 = geometry.Map("k0", "cm/s", results, r => r.K0CmPerS);
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
            var finiteD = results.Select(r => r.DCm2PerS).OfType<double>().ToArray();
            if (finiteD.Length > 0)
            {
                HistogramFigure.Save(Put("d_histogram.png"), finiteD, new HistogramOptions
                {
                    Title = "Diffusion coefficient", Quantity = "D", DisplayUnit = "cm²/s", LogBins = true,
                });
            }
            if (input.Spill is { } spill && ExampleCvs(results, spill, input.ExampleCvPixels, input.Started?.Recipe.Analysis) is { } examples)
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

        var rows = Rows(results, topography);
        var table = DiffusionTable.Build(rows);
        PixelTableCsv.Write(Put("diffusion_map.csv"), table);

        ScanHdf5.Write(Put("scan.h5"), new ScanHdf5Content
        {
            ScanId = input.ScanId,
            Instrument = input.Instrument,
            Attributes = new Dictionary<string, string>
            {
                ["technique"] = input.Technique,
                ["recipe_name"] = input.Started?.Recipe.Name ?? "",
                ["sample"] = input.Started?.Recipe.Sample ?? "",
                ["started_utc"] = input.Started?.StartedUtc.ToString("O") ?? "",
                ["software"] = $"seccm diffusion {Seccm.Messaging.Bus.MqttBus.Version}",
                ["map_units"] = "diffusion cm^2/s, dep V, k0 cm/s, current A, topography nm",
            },
            Maps = maps,
            Pixels = table,
            Curves = input.Spill is { } s ? Curves(s, results) : [],
            RecipeJson = input.Started is { } st ? SeccmJson.SerializeToString(st.Recipe) : null,
        });

        var summary = Summarise(results, geometry, input);
        // The D statistics are the same keys seccm analyze writes; the scan's own keys come first.
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

    private static DiffusionPixelRow[] Rows(PixelResultMessage[] results, MapGrid topography) =>
        results.Select(r => new DiffusionPixelRow(r.Ix, r.Iy, r.Index)
        {
            XUm = r.XUm,
            YUm = r.YUm,
            DCm2PerS = r.DCm2PerS ?? double.NaN,
            RSquared = r.RSquared ?? double.NaN,
            Flag = r.Flags,
            DRsCm2PerS = r.DRsCm2PerS ?? double.NaN,
            Method = r.Method,
            Info = r.Info,
            RatesDropped = r.RatesDropped,
            Alpha = r.Alpha ?? double.NaN,
            DoubleLayerF = r.DoubleLayerF ?? double.NaN,
            DeltaEpV = r.DeltaEpV ?? double.NaN,
            K0CmPerS = r.K0CmPerS ?? double.NaN,
            ContactZUm = r.ContactZUm ?? double.NaN,
            TopographyNm = topography[r.Ix, r.Iy],
            RatesUsed = r.RatesUsed,
            SlopeAPerSqrtVPerS = r.SlopeAPerSqrtVPerS ?? double.NaN,
            MeanCurrentA = r.MeanCurrentA ?? double.NaN,
            Take = r.Take,
        }).ToArray();

    /// <summary>Lazy and re-readable (ScanHdf5 enumerates twice): one pixel's curves in memory at a time.</summary>
    private static IEnumerable<FileCurve> Curves(CurveSpill spill, PixelResultMessage[] results)
    {
        var position = results.ToDictionary(r => r.Index, r => (r.Ix, r.Iy));
        foreach (var pixel in spill.Pixels.Where(position.ContainsKey))
        {
            var (ix, iy) = position[pixel];
            foreach (var c in spill.ReadPixel(pixel))
            {
                yield return new FileCurve(ix, iy, c.ScanRateVPerS, c.PotentialV, c.CurrentA);
            }
        }
    }

    private static (List<XySeries> Curves, List<PeakFitSeries> Fits)? ExampleCvs(PixelResultMessage[] results, CurveSpill spill, int count,
        AnalysisSpec? spec)
    {
        var withD = results.Where(r => r.DCm2PerS is not null && spill.HasPixel(r.Index)).OrderBy(r => r.DCm2PerS).ToArray();
        if (withD.Length == 0 || count <= 0)
        {
            return null;
        }
        var picks = (count == 1 ? [withD[withD.Length / 2]]
            : Enumerable.Range(0, count).Select(k => withD[(int)Math.Round(k * (withD.Length - 1) / (double)(count - 1))])).Distinct().ToArray();
        var n = (spec ?? new AnalysisSpec()).N;
        var curves = new List<XySeries>();
        var fits = new List<PeakFitSeries>();
        for (var g = 0; g < picks.Length; g++)
        {
            var r = picks[g];
            var label = $"({r.Ix}, {r.Iy}) D = {r.DCm2PerS:0.00e0} cm²/s";
            foreach (var c in spill.ReadPixel(r.Index))
            {
                var cycle = c.SamplesPerCycle > 0 && c.Count > c.SamplesPerCycle ? c.SamplesPerCycle : c.Count;
                curves.Add(new XySeries(curves.Count(x => x.Group == g) == 0 ? label : "", c.PotentialV[..cycle], c.CurrentA[..cycle]) { Group = g });
            }
            // The points the fit used: forward-peak currents corrected for kinetics as PixelAnalysis does.
            var used = r.Peaks.Where(p => p.IpA is not null && r.RatesUsedVPerS.Contains(p.ScanRateVPerS)).ToArray();
            var x = used.Select(p => Math.Sqrt(p.ScanRateVPerS)).ToArray();
            var y = used.Select(p => Math.Abs(p.IpA!.Value) / KineticWorkingCurve.PeakCurrentFactor((p.DeltaEpV ?? 0) * n)).ToArray();
            var slope = r.SlopeAPerSqrtVPerS ?? double.NaN;
            // The least-squares intercept for that slope: the line passes through the centroid of the points.
            var intercept = x.Length == 0 ? 0 : y.Average() - (slope * x.Average());
            fits.Add(new PeakFitSeries(label, x, y, slope, intercept) { Group = g });
        }
        return (curves, fits);
    }

    private static ExportSummary Summarise(PixelResultMessage[] results, MapGeometry geometry, ExportInput input)
    {
        var d = results.Select(r => r.DCm2PerS).OfType<double>().Order().ToArray();
        var dRs = results.Select(r => r.DRsCm2PerS).OfType<double>().Order().ToArray();
        double? medianRs = dRs.Length == 0 ? null : DiffusionTable.Median(dRs);
        double? median = d.Length == 0 ? null : DiffusionTable.Median(d);
        double? mean = d.Length == 0 ? null : d.Average();
        double? sd = d.Length < 2 ? null : Math.Sqrt(d.Sum(v => (v - mean!.Value) * (v - mean.Value)) / (d.Length - 1));
        var withContact = results.Where(r => r.Contact).ToArray();
        var currents = results.Select(r => r.MeanCurrentA).OfType<double>().ToArray();
        var rates = input.Started?.Recipe.Technique?.Cv?.ScanRatesVPerS
                    ?? results.SelectMany(r => r.Peaks.Select(p => p.ScanRateVPerS)).Distinct().Order().ToArray();
        var analysed = withContact.Where(r => r.Technique != PixelAnalyzer.HoldTechnique).ToArray();
        return new ExportSummary(
            input.Technique,
            geometry.Nx,
            geometry.Ny,
            results.Length,
            withContact.Length,
            d.Length,
            median,
            mean,
            sd,
            withContact.Length == 0 ? 0 : (double)withContact.Count(r => r.Flags != "ok") / withContact.Length,
            currents.Length == 0 ? null : currents.Average(),
            rates,
            analysed.Length == 0 ? 0 : analysed.Average(r => r.RatesUsed))
        {
            MedianDRsCm2PerS = medianRs,
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
