using System.Collections.Concurrent;
using System.CommandLine;
using Seccm.Electrochemistry.Analysis;
using Seccm.Maps;
using Seccm.Maps.Export;
using Seccm.Maps.LongCsv;
using Seccm.Maps.Tables;
using Spectre.Console;
using AnalysisCurve = Seccm.Electrochemistry.Analysis.CvCurve;
using FileCurve = Seccm.Maps.LongCsv.CvCurve;

namespace Seccm.Host.Verbs;

/// <summary>
/// <c>seccm analyze --input FILE.csv --out DIR --radius-nm R --concentration-mol-cm3 C [--area-cm2 A] [--n N] [--temperature-k T]</c>:
/// streams a long CSV, analyses each pixel as soon as its curves are complete (on every core), and writes
/// the same map files as the diffusion service's export (<see cref="MapExport"/>): diffusion_map.csv, summary.json, scan.h5
/// (with the file's curves), .gsf and .png maps, the D histogram and example CVs.
/// </summary>
internal static class AnalyzeVerb
{
    public static Command Create()
    {
        var input = new Option<FileInfo>("--input") { Description = "Long CSV (pixel_x,pixel_y,scan_rate_v_s,potential_v,current_a)", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for the map files (created if missing)", Required = true };
        var radius = new Option<double?>("--radius-nm") { Description = "Pipette opening radius in nm (wetted area pi r^2)" };
        var concentration = new Option<double?>("--concentration-mol-cm3") { Description = "Concentration of redox sites in mol/cm^3 (LTO: 0.0227)" };
        var area = new Option<double?>("--area-cm2") { Description = "Wetted area in cm^2 (overrides --radius-nm)" };
        var n = new Option<int>("--n") { Description = "Electrons per reaction", DefaultValueFactory = _ => 1 };
        var temperature = new Option<double>("--temperature-k") { Description = "Temperature in K", DefaultValueFactory = _ => 298.15 };
        var bandwidth = new Option<double?>("--bandwidth-hz") { Description = "-3 dB bandwidth of the potentiostat's current amplifier, when the instrument declares it (default: none assumed)" };
        var resistance = new Option<double?>("--ru-ohm") { Description = "Uncompensated resistance of the cell in ohm, when known (default: fitted where the waves show iR drop, else negligible)" };
        var alpha = new Option<double?>("--alpha") { Description = "Cathodic transfer coefficient, when known (default: fitted where the data determine it, else 0.5)" };
        var pitch = new Option<double>("--pitch-um") { Description = "Pixel pitch in um for the map files", DefaultValueFactory = _ => 1.0 };
        var command = new Command("analyze", "Randles-Sevcik diffusion map from a long CSV of CVs");
        foreach (var o in new Option[] { input, output, radius, concentration, area, n, temperature, pitch, bandwidth, resistance, alpha }) command.Options.Add(o);
        command.SetAction(parse => Run(parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(radius), parse.GetValue(concentration),
            parse.GetValue(area), parse.GetValue(n), parse.GetValue(temperature), parse.GetValue(pitch), parse.GetValue(bandwidth),
            parse.GetValue(resistance), parse.GetValue(alpha)));
        return command;
    }

    internal sealed record PixelRow(int X, int Y, PixelResult Result);

    internal static int Run(FileInfo input, DirectoryInfo output, double? radiusNm, double? concentration, double? areaCm2, int n, double temperatureK, double pitchUm,
        double? bandwidthHz = null, double? resistanceOhm = null, double? alpha = null)
    {
        if (resistanceOhm is { } ru && !(ru >= 0 && double.IsFinite(ru))) return Fail($"--ru-ohm {ru}: must be a resistance >= 0 in ohm");
        if (alpha is { } al && !(al > 0 && al < 1)) return Fail($"--alpha {al}: must be a transfer coefficient between 0 and 1");
        if (bandwidthHz is { } bw && !(bw > 0 && double.IsFinite(bw))) return Fail($"--bandwidth-hz {bw}: must be a positive bandwidth in Hz");
        if (areaCm2 is { } a && !(a > 0 && double.IsFinite(a))) return Fail($"--area-cm2 {a}: must be a positive area in cm^2");
        if (areaCm2 is null && radiusNm is null) return Fail("--radius-nm is required (or give --area-cm2)");
        if (radiusNm is { } r && !(r > 0 && double.IsFinite(r))) return Fail($"--radius-nm {r}: must be a positive radius in nm");
        if (concentration is null) return Fail("--concentration-mol-cm3 is required (LTO: 0.0227)");
        if (!(concentration > 0) || !double.IsFinite(concentration.Value)) return Fail($"--concentration-mol-cm3 {concentration}: must be a positive concentration");
        if (n < 1) return Fail($"--n {n}: must be >= 1");
        if (!(temperatureK > 0) || !double.IsFinite(temperatureK)) return Fail($"--temperature-k {temperatureK}: must be a positive temperature in K");
        if (!(pitchUm > 0) || !double.IsFinite(pitchUm)) return Fail($"--pitch-um {pitchUm}: must be a positive pitch in um");
        if (!input.Exists) return Fail($"{input.FullName}: the file does not exist");
        var settings = new AnalysisSettings
        {
            AreaCm2 = areaCm2,
            RadiusNm = radiusNm ?? 55,
            ConcentrationMolCm3 = concentration.Value,
            N = n,
            TemperatureK = temperatureK,
            MeasurementBandwidthHz = bandwidthHz,
            UncompensatedResistanceOhm = resistanceOhm,
            TransferCoefficient = alpha,
        };

        var results = new ConcurrentBag<PixelRow>();
        try
        {
            using var stream = OpenInput(input.FullName);
            if (Console.IsOutputRedirected || Console.IsErrorRedirected)
            {
                AnalyzeStream(stream, input.FullName, settings, results, null);
            }
            else
            {
                AnsiConsole.Progress().Start(ctx =>
                {
                    var task = ctx.AddTask("analysing", maxValue: Math.Max(1, stream.Length));
                    AnalyzeStream(stream, input.FullName, settings, results, () => task.Value = stream.Position);
                    task.Value = task.MaxValue;
                });
            }
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is DataFileException))
        {
            return Fail(ex.InnerExceptions[0].Message);
        }
        catch (DataFileException ex)
        {
            return Fail(ex.Message);
        }
        catch (IOException ex)
        {
            return Fail($"{input.FullName}: cannot read: {ex.Message}");
        }
        if (results.IsEmpty) return Fail($"{input.FullName}: no CV in the file");

        try
        {
            Write(output, results.OrderBy(p => p.Y).ThenBy(p => p.X).ToArray(), pitchUm, input.FullName, n);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Fail($"{output.FullName}: cannot write: {ex.Message}");
        }
        Console.WriteLine($"seccm analyze: {results.Count} pixels analysed, maps in {output.FullName}");
        return 0;
    }

    internal static FileStream OpenInput(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);

    /// <summary>
    /// The verb's core (also what <c>seccm-bench analyze</c> times): streams the curves, analyses each pixel on every core as
    /// soon as its curves are complete. Throws <see cref="DataFileException"/> (possibly inside an AggregateException).
    /// </summary>
    internal static void AnalyzeStream(Stream stream, string fileName, AnalysisSettings settings, ConcurrentBag<PixelRow> results, Action? tick)
    {
        var pixels = GroupByPixel(LongCsvReader.ReadCurves(stream, fileName), fileName);
        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(pixels, EnumerablePartitionerOptions.NoBuffering),
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            pixel => { results.Add(AnalyzePixel(pixel, settings, fileName)); tick?.Invoke(); });
    }

    /// <summary>Consecutive curves of one pixel form a group; a pixel that comes back later is an error (files are written pixel by pixel).</summary>
    private static IEnumerable<List<FileCurve>> GroupByPixel(IEnumerable<FileCurve> curves, string file)
    {
        var seen = new HashSet<(int, int)>();
        List<FileCurve>? group = null;
        foreach (var c in curves)
        {
            if (group is not null && (group[0].PixelX != c.PixelX || group[0].PixelY != c.PixelY))
            {
                yield return group;
                group = null;
            }
            if (group is null)
            {
                if (!seen.Add((c.PixelX, c.PixelY)))
                    throw new DataFileException(file, c.FirstLine, "pixel_x", $"pixel ({c.PixelX}, {c.PixelY}) appears again after other pixels; the curves of a pixel must be contiguous");
                group = [];
            }
            group.Add(c);
        }
        if (group is not null) yield return group;
    }

    private static PixelRow AnalyzePixel(List<FileCurve> pixel, AnalysisSettings settings, string file)
    {
        var first = pixel[0];
        if (pixel.Select(c => c.ScanRateVPerS).Distinct().Count() < 2)
            throw new DataFileException(file, first.FirstLine, "scan_rate_v_s",
                $"pixel ({first.PixelX}, {first.PixelY}) has only the scan rate {first.ScanRateVPerS} V/s; the Randles-Sevcik fit needs at least two rates");
        foreach (var c in pixel)
        {
            if (c.Count < AnalysisCurve.MinimumPoints)
                throw new DataFileException(file, c.FirstLine, "potential_v",
                    $"the CV of pixel ({c.PixelX}, {c.PixelY}) at {c.ScanRateVPerS} V/s has {c.Count} points; at least {AnalysisCurve.MinimumPoints} are needed");
        }
        try
        {
            var result = PixelAnalysis.Analyze(pixel.Select(c => new AnalysisCurve(c.ScanRateVPerS, c.PotentialV, c.CurrentA)).ToArray(), settings);
            return new PixelRow(first.PixelX, first.PixelY, result);
        }
        catch (ArgumentException ex)
        {
            throw new DataFileException(file, first.FirstLine, null, $"pixel ({first.PixelX}, {first.PixelY}): {ex.Message}");
        }
    }

    private static void Write(DirectoryInfo output, PixelRow[] rows, double pitchUm, string inputPath, int n)
    {
        int nx = rows.Max(r => r.X) + 1;
        // The same files, columns and summary keys as the diffusion service's export (MapExport); no contact heights offline.
        var table = rows.Select(r => new DiffusionPixelRow(r.X, r.Y, r.Y * nx + r.X)
        {
            XUm = (r.X + 0.5) * pitchUm,
            YUm = (r.Y + 0.5) * pitchUm,
            DCm2PerS = r.Result.DCm2PerS,
            RSquared = r.Result.RSquared,
            Flag = r.Result.FlagText,
            DRsCm2PerS = r.Result.DRsCm2PerS,
            Method = r.Result.Method,
            Info = r.Result.InfoText,
            RatesDropped = r.Result.RatesDropped,
            Alpha = r.Result.Alpha,
            DoubleLayerF = r.Result.DoubleLayerF,
            UncompensatedResistanceOhm = r.Result.UncompensatedResistanceOhm,
            DeltaEpV = r.Result.DeltaEpAtFastestUsedV,
            K0CmPerS = r.Result.K0CmPerS,
            RatesUsed = r.Result.RatesUsed,
            SlopeAPerSqrtVPerS = r.Result.SlopeAPerSqrtVPerS,
            ScanRatesVPerS = r.Result.Curves.Select(c => c.ScanRateVPerS).ToArray(),
            FitPoints = PeakFitPoints.Of(
                r.Result.Curves.Where(c => c.HasForwardPeak).Select(c => (c.ScanRateVPerS, c.ForwardPeakCurrentA, c.PeakSeparationV)),
                r.Result.RatesUsedVPerS, n),
        }).ToArray();
        MapExport.Write(new MapExportInput
        {
            ScanId = Path.GetFileNameWithoutExtension(inputPath),
            Rows = table,
            Geometry = MapGeometry.Of(table.Select(r => (r.Ix, r.Iy, r.XUm, r.YUm)).ToArray(), pitchUm: pitchUm),
            Software = $"seccm analyze {Seccm.Messaging.Bus.MqttBus.Version}",
            // Re-read lazily from the file for scan.h5 and the example CVs: one curve in memory at a time.
            Curves = LongCsvReader.ReadCurves(inputPath),
        }, output.FullName);
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"seccm analyze: {message}");
        return 2;
    }
}
