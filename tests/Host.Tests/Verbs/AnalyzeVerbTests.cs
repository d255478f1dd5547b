using System.Globalization;
using System.Text;
using System.Text.Json;
using Seccm.Electrochemistry.Samples;
using Seccm.Host.Tests.Infrastructure;
using Seccm.TestSupport;

namespace Seccm.Host.Tests.Verbs;

/// <summary>A 3 x 3 LTO map simulated once by <c>seccm simulate</c> for all analyze tests.</summary>
public sealed class SimulatedLtoMap : IAsyncLifetime
{
    public const int Size = 3;
    public const int Seed = 1;

    public TempDir Dir { get; } = new();

    public string File => Dir.File("lto.csv");

    public async Task InitializeAsync()
    {
        var result = await SeccmCli.RunAsync("simulate", "--out", File, "--sample", "lto", "--size", "3", "--seed", "1");
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    public Task DisposeAsync()
    {
        Dir.Dispose();
        return Task.CompletedTask;
    }
}

public class AnalyzeVerbTests(SimulatedLtoMap map) : IClassFixture<SimulatedLtoMap>
{
    private static readonly string[] LtoFlags = ["--radius-nm", "55", "--concentration-mol-cm3", "0.0227"];

    [Fact]
    public async Task Writes_the_map_files_and_recovers_the_simulated_LTO_diffusion_coefficients()
    {
        using var dir = new TempDir();
        var outDir = dir.File("maps");

        var result = await SeccmCli.RunAsync(["analyze", "--input", map.File, "--out", outDir, .. LtoFlags]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var csv = File.ReadAllLines(Path.Combine(outDir, "diffusion_map.csv"));
        Assert.StartsWith("pixel_x,pixel_y,d_cm2_s,r2,flag", csv[0]);
        // The diffusion service writes the same columns (one table layout for both).
        Assert.Equal(string.Join(",", Seccm.Maps.Tables.DiffusionTable.Build([]).Columns.Select(c => c.Name)), csv[0]);
        Assert.Equal(SimulatedLtoMap.Size * SimulatedLtoMap.Size, csv.Length - 1);
        Assert.True(new FileInfo(Path.Combine(outDir, "diffusion_map.png")).Length > 0);
        Assert.True(new FileInfo(Path.Combine(outDir, "diffusion_map.gsf")).Length > 0);

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        Assert.Equal(9, summary.RootElement.GetProperty("pixels").GetInt32());
        double medianD = summary.RootElement.GetProperty("median_d_cm2_s").GetDouble();
        Assert.True(summary.RootElement.GetProperty("median_d_rs_cm2_s").GetDouble() > 0);

        // Truth: the grain D under each pixel centre of the same sample and seed that seccm simulate used.
        var sample = SampleCatalog.Create("lto", SimulatedLtoMap.Seed);
        double pitchUm = sample.ScanSizeUm / SimulatedLtoMap.Size;
        var truth = new Dictionary<(int, int), double>();
        for (int y = 0; y < SimulatedLtoMap.Size; y++)
        {
            for (int x = 0; x < SimulatedLtoMap.Size; x++)
            {
                truth[(x, y)] = sample.TrueDCm2PerS((x + 0.5) * pitchUm, (y + 0.5) * pitchUm);
            }
        }
        double trueMedian = truth.Values.Order().ElementAt(truth.Count / 2);
        Assert.InRange(medianD / trueMedian, 0.85, 1.15);

        var header = csv[0].Split(',');
        int ix = Array.IndexOf(header, "pixel_x"), iy = Array.IndexOf(header, "pixel_y"), id = Array.IndexOf(header, "d_cm2_s");
        foreach (var line in csv.Skip(1))
        {
            var f = line.Split(',');
            var key = (int.Parse(f[ix], CultureInfo.InvariantCulture), int.Parse(f[iy], CultureInfo.InvariantCulture));
            double d = double.Parse(f[id], CultureInfo.InvariantCulture);
            Assert.True(d / truth[key] is > 0.7 and < 1.3, $"pixel {key}: D {d:e3} vs true {truth[key]:e3}");
        }
    }

    [Fact]
    public async Task Missing_input_file_exits_2_naming_the_file()
    {
        using var dir = new TempDir();
        var missing = dir.File("nope.csv");

        var result = await Analyze(missing, dir, LtoFlags);

        Assert.Contains("nope.csv", result.Error);
        Assert.Contains("does not exist", result.Error);
    }

    [Fact]
    public async Task Wrong_header_exits_2_naming_file_and_line_1()
    {
        using var dir = new TempDir();
        var file = Write(dir, "header.csv", "x,y,rate,e,i\n0,0,1,1.0,1e-12\n");

        var result = await Analyze(file, dir, LtoFlags);

        Assert.Contains("header.csv line 1", result.Error);
        Assert.Contains("pixel_x,pixel_y,scan_rate_v_s,potential_v,current_a", result.Error);
    }

    [Fact]
    public async Task Non_numeric_field_exits_2_naming_line_and_field()
    {
        using var dir = new TempDir();
        var rows = Curve(0, 0, 1.25, 30).Concat(Curve(0, 0, 5, 30)).ToList();
        rows[2] = "0,0,1.25,1.002,abc"; // line 4 of the file (header is line 1)
        var file = Write(dir, "text.csv", Header + string.Join("\n", rows) + "\n");

        var result = await Analyze(file, dir, LtoFlags);

        Assert.Contains("text.csv line 4, field current_a", result.Error);
        Assert.Contains("'abc' is not a number", result.Error);
    }

    [Fact]
    public async Task A_cv_with_too_few_points_exits_2_naming_line_and_field()
    {
        using var dir = new TempDir();
        var file = Write(dir, "short.csv", Header + string.Join("\n", Curve(0, 0, 1.25, 30).Concat(Curve(0, 0, 5, 5))) + "\n");

        var result = await Analyze(file, dir, LtoFlags);

        Assert.Contains("short.csv line 32, field potential_v", result.Error);
        Assert.Contains("has 5 points", result.Error);
    }

    [Fact]
    public async Task Only_one_scan_rate_exits_2_naming_line_and_field()
    {
        using var dir = new TempDir();
        var file = Write(dir, "onerate.csv", Header + string.Join("\n", Curve(0, 0, 1.25, 30)) + "\n");

        var result = await Analyze(file, dir, LtoFlags);

        Assert.Contains("onerate.csv line 2, field scan_rate_v_s", result.Error);
        Assert.Contains("at least two rates", result.Error);
    }

    [Fact]
    public async Task Negative_radius_exits_2_naming_the_flag()
    {
        using var dir = new TempDir();

        var result = await Analyze(map.File, dir, ["--radius-nm", "-55", "--concentration-mol-cm3", "0.0227"]);

        Assert.Contains("--radius-nm -55", result.Error);
    }

    [Theory]
    [InlineData("--ru-ohm", "-10", "--ru-ohm -10")]
    [InlineData("--alpha", "1.5", "--alpha 1.5")]
    public async Task A_bad_resistance_or_transfer_coefficient_exits_2_naming_the_flag(string flag, string value, string expected)
    {
        using var dir = new TempDir();

        var result = await Analyze(map.File, dir, [.. LtoFlags, flag, value]);

        Assert.Contains(expected, result.Error);
    }

    private const string Header = "pixel_x,pixel_y,scan_rate_v_s,potential_v,current_a\n";

    private static IEnumerable<string> Curve(int x, int y, double rate, int points) =>
        Enumerable.Range(0, points).Select(i => string.Create(CultureInfo.InvariantCulture, $"{x},{y},{rate},{1.0 + 0.001 * i},{1e-12 * Math.Sin(i / 5.0)}"));

    private static string Write(TempDir dir, string name, string text)
    {
        var path = dir.File(name);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    /// <summary>Runs analyze into dir/maps and checks what every bad input must do: exit 2, say so, write nothing.</summary>
    private static async Task<CliResult> Analyze(string input, TempDir dir, string[] flags)
    {
        var outDir = dir.File("maps");
        var result = await SeccmCli.RunAsync(["analyze", "--input", input, "--out", outDir, .. flags]);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("seccm analyze: ", result.Error);
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any(), $"result files were written to {outDir}");
        return result;
    }
}
