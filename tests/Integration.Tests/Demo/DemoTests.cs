using System.Globalization;
using System.Text.Json;
using Seccm.Electrochemistry.Samples;
using Seccm.Integration.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Seccm.Integration.Tests.Demo;

/// <summary>The README's main command, run as a user runs it, checked against the simulator's ground truth.</summary>
public sealed class DemoTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("seccm-demo-").FullName;

    [Fact]
    public void The_demo_writes_the_maps_and_recovers_every_pixels_d_within_5_percent_of_the_truth()
    {
        using var demo = SeccmProcess.Start(["demo", "--size", "6", "--out", _dir, "--seed", "3"]);
        Assert.True(demo.WaitForExit(TimeSpan.FromMinutes(5)), $"the demo did not finish: {demo.Output}");
        output.WriteLine(demo.Output);
        Assert.Equal(0, demo.Process.ExitCode);

        foreach (var file in new[] { "diffusion_map.csv", "summary.json", "diffusion_map.png", "diffusion_map.gsf", "scan.h5", "topography.png" })
        {
            Assert.True(File.Exists(Path.Combine(_dir, file)), $"{file} is missing");
        }
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "summary.json")));
        Assert.Equal(36, summary.RootElement.GetProperty("pixels").GetInt32());

        var lines = File.ReadAllLines(Path.Combine(_dir, "diffusion_map.csv"));
        Assert.StartsWith("pixel_x,pixel_y,d_cm2_s,r2,flag", lines[0], StringComparison.Ordinal);
        var header = lines[0].Split(',');
        int Col(string name) => Array.IndexOf(header, name);
        var truth = SampleCatalog.Create("lto", 3);
        var worst = 0.0;
        var failures = new List<string>();
        Assert.Equal(36, lines.Length - 1);
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            var x = double.Parse(f[Col("x_um")], CultureInfo.InvariantCulture);
            var y = double.Parse(f[Col("y_um")], CultureInfo.InvariantCulture);
            var expected = truth.TrueDCm2PerS(x, y);
            if (!double.TryParse(f[Col("d_cm2_s")], CultureInfo.InvariantCulture, out var d))
            {
                failures.Add($"pixel at ({x}, {y}) um has no D (flag {f[Col("flag")]}); truth {expected:0.000e+00}: {line}");
                continue;
            }
            var error = Math.Abs(d / expected - 1);
            worst = Math.Max(worst, error);
            output.WriteLine($"({x:0.00}, {y:0.00}) um: D {d:0.000e+00} truth {expected:0.000e+00} error {error:P1}");
            if (error >= 0.05)
            {
                failures.Add($"pixel at ({x}, {y}) um: D {d:0.000e+00} vs truth {expected:0.000e+00} ({error:P1})");
            }
        }
        output.WriteLine($"worst pixel error {worst:P2}");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
