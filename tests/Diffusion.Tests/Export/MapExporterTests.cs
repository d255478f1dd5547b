using System.Text.Json;
using Seccm.Contracts.Scan;
using Seccm.Diffusion.Analysis;
using Seccm.Diffusion.Assembly;
using Seccm.Diffusion.Export;
using Seccm.Maps.LongCsv;
using Seccm.Maps.Tables;
using Seccm.TestSupport;

namespace Seccm.Diffusion.Tests.Export;

public class MapExporterTests
{
    private static readonly CliTool Seccm = new("seccm");

    /// <summary>
    /// Pins #22: <c>seccm analyze</c> on a file and the service's export of the same pixels (its analysis of the same
    /// curves, streamed through its spill) write the same file names, the same CSV header and the same summary keys.
    /// </summary>
    [Fact]
    public async Task Seccm_analyze_and_the_service_export_write_the_same_files_columns_and_keys()
    {
        using var dir = new TempDir();
        var file = dir.File("lto.csv");
        var simulated = await Seccm.RunAsync("simulate", "--out", file, "--sample", "lto", "--size", "2", "--seed", "1");
        Assert.True(simulated.ExitCode == 0, simulated.ToString());
        var analyzeDir = dir.File("analyze");
        var analyzed = await Seccm.RunAsync("analyze", "--input", file, "--out", analyzeDir, "--radius-nm", "55", "--concentration-mol-cm3", "0.0227");
        Assert.True(analyzed.ExitCode == 0, analyzed.ToString());

        // The service's side: the same curves through its spill and its analyzer, then its exporter.
        var curves = LongCsvReader.ReadCurves(file).ToArray();
        var nx = curves.Max(c => c.PixelX) + 1;
        using var spill = CurveSpill.Open(dir.File("spill.bin"), "s");
        var results = new List<Contracts.Diffusion.PixelResultMessage>();
        var settings = PixelAnalyzer.Settings(new AnalysisSpec(RadiusNm: 55, ConcentrationMolCm3: 0.0227));
        foreach (var pixel in curves.GroupBy(c => (c.PixelX, c.PixelY)))
        {
            var (ix, iy) = pixel.Key;
            var index = (iy * nx) + ix;
            foreach (var chunk in CurveChunks.Of("s", index, pixel.Select(c => (c.ScanRateVPerS, c.PotentialV, c.CurrentA)).ToArray(), 4096))
            {
                spill.AppendChunk(chunk);
            }
            var done = new PixelDoneEvent("s", index, ix, iy, ix + 0.5, iy + 0.5, true, null, DateTimeOffset.UnixEpoch);
            var (result, problem) = PixelAnalyzer.Analyze(done, "cv", spill.ReadPixel(index), settings, 0.2, "w", DateTimeOffset.UnixEpoch);
            Assert.Null(problem);
            results.Add(result);
        }
        var serviceDir = dir.File("service");
        var (files, summary) = MapExporter.Export(new ExportInput("s", "lab", null, results, spill, "cv", 3), serviceDir);

        var names = Directory.GetFiles(analyzeDir).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(names, Directory.GetFiles(serviceDir).Select(Path.GetFileName).Order().ToArray());
        Assert.Equal(names, files.Order().ToArray());
        Assert.Contains("scan.h5", names);
        Assert.Contains("example_cvs.png", names);

        var header = File.ReadLines(Path.Combine(analyzeDir, "diffusion_map.csv")).First();
        Assert.Equal(header, File.ReadLines(Path.Combine(serviceDir, "diffusion_map.csv")).First());
        Assert.Equal(string.Join(",", DiffusionTable.Build([]).Columns.Select(c => c.Name)), header);

        string[] Keys(string folder)
        {
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")));
            return json.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        }
        Assert.Equal(Keys(analyzeDir), Keys(serviceDir));
        Assert.Equal(4, summary.Pixels);
        Assert.Equal(4, summary.PixelsWithD);
    }
}
