using System.Globalization;
using Seccm.Host.Tests.Infrastructure;
using Seccm.TestSupport;

namespace Seccm.Host.Tests.Verbs;

public class SimulateVerbTests
{
    [Fact]
    public async Task Writes_the_exact_header_and_each_curve_in_one_contiguous_block()
    {
        using var dir = new TempDir();
        var file = dir.File("cv.csv");

        var result = await SeccmCli.RunAsync("simulate", "--out", file, "--size", "2", "--rates", "1.25,5");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = File.ReadAllLines(file);
        Assert.Equal("pixel_x,pixel_y,scan_rate_v_s,potential_v,current_a", lines[0]);

        var blocks = new List<(int X, int Y, double Rate, List<double> E)>();
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            Assert.Equal(5, f.Length);
            int x = int.Parse(f[0], CultureInfo.InvariantCulture), y = int.Parse(f[1], CultureInfo.InvariantCulture);
            double rate = double.Parse(f[2], CultureInfo.InvariantCulture), e = double.Parse(f[3], CultureInfo.InvariantCulture);
            Assert.True(double.IsFinite(double.Parse(f[4], CultureInfo.InvariantCulture)), line);
            if (blocks.Count == 0 || blocks[^1].X != x || blocks[^1].Y != y || blocks[^1].Rate != rate)
            {
                blocks.Add((x, y, rate, []));
            }
            blocks[^1].E.Add(e);
        }

        // 2 x 2 pixels x 2 rates, and no curve split into two blocks.
        Assert.Equal(8, blocks.Count);
        Assert.Equal(8, blocks.Select(b => (b.X, b.Y, b.Rate)).Distinct().Count());
        Assert.Equal(4, blocks.Select(b => (b.X, b.Y)).Distinct().Count());
        // Pixels in raster order, the rates of a pixel together.
        Assert.Equal([(0, 0), (0, 0), (1, 0), (1, 0), (0, 1), (0, 1), (1, 1), (1, 1)], blocks.Select(b => (b.X, b.Y)).ToArray());
        foreach (var b in blocks)
        {
            // LTO window 1.0 -> 2.1 -> 1.0 V at 1 mV: forward sweep first, one sample per mV each way.
            Assert.Equal(2201, b.E.Count);
            Assert.Equal(1.0, b.E[0], 6);
            Assert.Equal(2.1, b.E.Max(), 6);
            Assert.Equal(1.0, b.E[^1], 6);
            Assert.Equal(1100, b.E.IndexOf(b.E.Max()));
        }
    }

    [Fact]
    public async Task A_seed_gives_the_same_file_in_every_run()
    {
        // Two processes (the noise seeds were once salted per process), on all cores; a third run with another seed must differ.
        using var dir = new TempDir();
        var first = dir.File("first.csv");
        var second = dir.File("second.csv");
        var other = dir.File("other.csv");

        foreach (var (file, seed) in new[] { (first, "7"), (second, "7"), (other, "8") })
        {
            var result = await SeccmCli.RunAsync("simulate", "--out", file, "--size", "3", "--rates", "1.25,5", "--seed", seed, "--noise-a", "0.2e-12");
            Assert.True(result.ExitCode == 0, result.ToString());
        }

        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        Assert.NotEqual(File.ReadAllBytes(first), File.ReadAllBytes(other));
    }
}
