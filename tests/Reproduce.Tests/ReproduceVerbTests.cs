using System.Text.Json;
using Seccm.Host.Reproduce.Tests.Infrastructure;
using Seccm.TestSupport;

namespace Seccm.Host.Reproduce.Tests;

public class ReproduceVerbTests
{
    private static Dictionary<string, JsonElement> Numbers(string numbersJson, string figure)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(numbersJson));
        var fig = doc.RootElement.GetProperty("figures").EnumerateArray().Single(f => f.GetProperty("figure").GetString() == figure);
        Assert.True(fig.GetProperty("seconds").GetDouble() > 0);
        var result = new Dictionary<string, JsonElement>();
        foreach (var n in fig.GetProperty("numbers").EnumerateArray())
        {
            // Every entry has ours, the paper's and their ratio (null where the paper gives no number).
            foreach (var key in new[] { "quantity", "unit", "ours", "paper", "ratio" })
            {
                Assert.True(n.TryGetProperty(key, out _), $"{figure}: a number lacks '{key}': {n}");
            }
            if (n.GetProperty("paper").ValueKind == JsonValueKind.Number && n.GetProperty("ours").ValueKind == JsonValueKind.Number)
            {
                Assert.Equal(n.GetProperty("ours").GetDouble() / n.GetProperty("paper").GetDouble(), n.GetProperty("ratio").GetDouble(), 9);
            }
            result[n.GetProperty("quantity").GetString()!] = n.Clone();
        }
        foreach (var image in fig.GetProperty("images").EnumerateArray())
        {
            var path = Path.Combine(Path.GetDirectoryName(numbersJson)!, "..", image.GetString()!);
            Assert.True(new FileInfo(path).Length > 1000, $"{figure}: image {image} is missing or empty");
        }
        return result;
    }

    [Fact]
    public async Task Fig2d_charges_and_discharges_the_LTO_film_under_a_5_um_pipette_in_about_1600_s()
    {
        using var temp = new TempDir();
        var run = await ReproduceCli.RunAsync("fig2d", "--out", temp.Path);
        Assert.True(run.ExitCode == 0, run.ToString());
        var n = Numbers(Path.Combine(temp.Path, "fig2d", "numbers.json"), "fig2d");
        var duration = n["charge/discharge duration (one cycle, 5 um pipette)"];
        Assert.InRange(duration.GetProperty("ratio").GetDouble(), 0.8, 1.2);
        // Film capacity n F C A L of the 750 nm LTO film under a 2.5 um radius droplet, in uAh; diffusion in the film
        // already holds the 27 pA charge a little short of it.
        var filmUAh = 96485.33212 * 0.0227 * Math.PI * Math.Pow(2.5e-4, 2) * 750e-7 / 3.6e-3;
        Assert.InRange(n["charge capacity"].GetProperty("ours").GetDouble() / filmUAh, 0.88, 0.98);
        // The paper: the fast discharge delivers clearly less than the charge.
        var efficiency = n["coulombic efficiency"].GetProperty("ours").GetDouble();
        Assert.InRange(efficiency, 0.75, 0.93);
        Assert.InRange(n["charge plateau"].GetProperty("ours").GetDouble(), 1.45, 1.7);
        Assert.InRange(n["discharge plateau"].GetProperty("ours").GetDouble(), 1.4, 1.65);
        Assert.True(File.Exists(Path.Combine(temp.Path, "fig2d", "charge-discharge.png")));
    }

    [Fact]
    public async Task Fig2a_reports_LTO_peak_separations_at_10_100_and_500_mV_per_s_against_the_paper()
    {
        using var temp = new TempDir();
        var run = await ReproduceCli.RunAsync("fig2a", "--out", temp.Path);
        Assert.True(run.ExitCode == 0, run.ToString());
        var n = Numbers(Path.Combine(temp.Path, "fig2a", "numbers.json"), "fig2a");
        Assert.Equal(3, n.Count);
        foreach (var rate in new[] { 10, 100, 500 })
        {
            var dEp = n[$"LTO peak separation at {rate} mV/s"];
            // Reversible or quasi-reversible: at least the Nernstian 57 mV less noise, at most a few hundred mV.
            Assert.InRange(dEp.GetProperty("ours").GetDouble(), 45, 250);
        }
        Assert.InRange(n["LTO peak separation at 100 mV/s"].GetProperty("ratio").GetDouble(), 0.75, 1.35);
    }

    [Fact]
    public async Task Fig2c_finds_LTO_ip_linear_in_sqrt_v_up_to_25_V_per_s_out_of_a_series_that_goes_beyond()
    {
        using var temp = new TempDir();
        var run = await ReproduceCli.RunAsync("fig2c", "--out", temp.Path);
        Assert.True(run.ExitCode == 0, run.ToString());
        var n = Numbers(Path.Combine(temp.Path, "fig2c", "numbers.json"), "fig2c");
        var limit = n["LTO ip linear in sqrt(v) up to"];
        Assert.Equal(1.0, limit.GetProperty("ratio").GetDouble(), 9);
        Assert.Contains("saturated", limit.GetProperty("note").GetString(), StringComparison.Ordinal);
        Assert.InRange(n["LTO D from ip vs sqrt(v) (one spot)"].GetProperty("ratio").GetDouble(), 0.9, 1.1);
    }

    [Theory]
    [InlineData(new[] { "fig9" }, "fig9")]
    [InlineData(new[] { "fig3", "--size", "0" }, "--size")]
    public async Task Bad_input_exits_2_naming_what_was_wrong_and_writes_nothing(string[] args, string named)
    {
        using var temp = new TempDir();
        var run = await ReproduceCli.RunAsync([.. args, "--out", temp.File("out")]);
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(named, run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.File("out")));
    }
}
