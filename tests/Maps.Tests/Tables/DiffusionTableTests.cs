using Seccm.Maps.Tables;

namespace Seccm.Maps.Tests.Tables;

public sealed class DiffusionTableTests
{
    [Fact]
    public void Both_answers_the_method_and_the_reasons_are_columns_and_missing_values_stay_empty()
    {
        using var dir = new TempDir();
        var path = dir.File("diffusion_map.csv");
        var rows = new[]
        {
            new DiffusionPixelRow(0, 0, 0) { DCm2PerS = 2.5e-11, DRsCm2PerS = 1.6e-11, Method = "bv_wave_fit", Info = "kinetic|saturated", RatesDropped = "20 V/s: ip 7% below the sqrt(v) line of the slower rates" },
            new DiffusionPixelRow(1, 0, 1) { Flag = "nopeak" },
        };
        PixelTableCsv.Write(path, DiffusionTable.Build(rows));
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        Assert.Equal(["pixel_x", "pixel_y", "d_cm2_s", "r2", "flag", "d_rs_cm2_s", "method", "info", "rates_dropped"], header[..9]);
        Assert.Contains("bv_wave_fit,kinetic|saturated,20 V/s: ip 7% below the sqrt(v) line of the slower rates", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("1,0,,,nopeak,,,,", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void R_u_is_a_column_and_the_summary_counts_the_methods()
    {
        using var dir = new TempDir();
        var path = dir.File("diffusion_map.csv");
        var rows = new[]
        {
            new DiffusionPixelRow(0, 0, 0) { DCm2PerS = 8e-6, Method = "bv_ir_semi_integral_fit", Alpha = 0.38, UncompensatedResistanceOhm = 120 },
            new DiffusionPixelRow(1, 0, 1) { DCm2PerS = 8e-6, Method = "bv_wave_fit", Alpha = 0.5 },
            new DiffusionPixelRow(2, 0, 2) { DCm2PerS = 8e-6, Method = "bv_wave_fit", Alpha = 0.5 },
        };
        PixelTableCsv.Write(path, DiffusionTable.Build(rows));
        var lines = File.ReadAllLines(path);
        int column = Array.IndexOf(lines[0].Split(','), "r_u_ohm");
        Assert.True(column > 0, lines[0]);
        Assert.Equal("120", lines[1].Split(',')[column]);
        Assert.Equal("", lines[2].Split(',')[column]);
        var stats = DiffusionTable.Statistics(rows);
        Assert.Equal(120, (double)stats["median_r_u_ohm"]!);
        Assert.Equal(2, (int)stats["methods"]!["bv_wave_fit"]!);
        Assert.Equal(1, (int)stats["methods"]!["bv_ir_semi_integral_fit"]!);
    }

    [Fact]
    public void Summary_counts_warnings_only_and_has_both_medians()
    {
        var rows = new[]
        {
            new DiffusionPixelRow(0, 0, 0) { DCm2PerS = 2e-11, DRsCm2PerS = 1e-11, Info = "kinetic" },
            new DiffusionPixelRow(1, 0, 1) { DCm2PerS = 4e-11, DRsCm2PerS = 3e-11, Info = "kinetic" },
            new DiffusionPixelRow(2, 0, 2) { Flag = "nopeak" },
        };
        var stats = DiffusionTable.Statistics(rows);
        Assert.Equal(1, (int)stats["flagged_pixels"]!);
        Assert.Equal(2, (int)stats["pixels_with_d"]!);
        Assert.Equal(3e-11, (double)stats["median_d_cm2_s"]!, 1e-20);
        Assert.Equal(2e-11, (double)stats["median_d_rs_cm2_s"]!, 1e-20);
    }
}
