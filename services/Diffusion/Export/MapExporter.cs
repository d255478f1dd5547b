using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Diffusion.Analysis;
using Seccm.Diffusion.Assembly;
using Seccm.Maps.Export;
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

/// <summary>
/// The service's side of the export: maps its pixel results and spill to <see cref="MapExport"/>'s inputs (the same files,
/// columns and summary keys as <c>seccm analyze</c>).
/// </summary>
internal static class MapExporter
{
    public static (IReadOnlyList<string> Files, ExportSummary Summary) Export(ExportInput input, string directory)
    {
        var results = input.Results.OrderBy(r => r.Iy).ThenBy(r => r.Ix).ToArray();
        var started = input.Started;
        var points = started?.Pixels.Select(p => (p.Ix, p.Iy, p.XUm, p.YUm)).ToArray()
                     ?? results.Select(r => (r.Ix, r.Iy, r.XUm, r.YUm)).ToArray();
        var n = (started?.Recipe.Analysis ?? new AnalysisSpec()).N;
        return MapExport.Write(new MapExportInput
        {
            ScanId = input.ScanId,
            Rows = results.Select(r => Row(r, n)).ToArray(),
            Geometry = MapGeometry.Of(points, started?.Nx ?? 0, started?.Ny ?? 0, started?.Recipe.Grid?.PitchUm),
            Technique = input.Technique == PixelAnalyzer.HoldTechnique ? MapExportInput.HoldTechnique : input.Technique,
            Instrument = input.Instrument,
            Software = $"seccm diffusion {Seccm.Messaging.Bus.MqttBus.Version}",
            Curves = input.Spill is { } spill ? Curves(spill, results) : [],
            RecipeName = started?.Recipe.Name ?? "",
            Sample = started?.Recipe.Sample ?? "",
            StartedUtc = started?.StartedUtc,
            RecipeJson = started is { } st ? SeccmJson.SerializeToString(st.Recipe) : null,
            ScanRatesVPerS = started?.Recipe.Technique?.Cv?.ScanRatesVPerS,
            ExampleCvPixels = input.ExampleCvPixels,
        }, directory);
    }

    private static DiffusionPixelRow Row(PixelResultMessage r, int n) => new(r.Ix, r.Iy, r.Index)
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
        UncompensatedResistanceOhm = r.UncompensatedResistanceOhm ?? double.NaN,
        DeltaEpV = r.DeltaEpV ?? double.NaN,
        K0CmPerS = r.K0CmPerS ?? double.NaN,
        ContactZUm = r.ContactZUm ?? double.NaN,
        RatesUsed = r.RatesUsed,
        SlopeAPerSqrtVPerS = r.SlopeAPerSqrtVPerS ?? double.NaN,
        MeanCurrentA = r.MeanCurrentA ?? double.NaN,
        Take = r.Take,
        Contact = r.Contact,
        ScanRatesVPerS = r.Peaks.Select(p => p.ScanRateVPerS).ToArray(),
        FitPoints = PeakFitPoints.Of(r.Peaks.Select(p => (p.ScanRateVPerS, p.IpA ?? double.NaN, p.DeltaEpV ?? 0)), r.RatesUsedVPerS, n),
    };

    /// <summary>Lazy and re-readable (ScanHdf5 enumerates twice): one pixel's curves in memory at a time.</summary>
    private static IEnumerable<FileCurve> Curves(CurveSpill spill, PixelResultMessage[] results)
    {
        var position = results.ToDictionary(r => r.Index, r => (r.Ix, r.Iy));
        foreach (var pixel in spill.Pixels.Where(position.ContainsKey))
        {
            var (ix, iy) = position[pixel];
            foreach (var c in spill.ReadPixel(pixel))
            {
                yield return new FileCurve(ix, iy, c.ScanRateVPerS, c.PotentialV, c.CurrentA) { SamplesPerCycle = c.SamplesPerCycle };
            }
        }
    }
}
