using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Seccm.Maps.Tables;

namespace Seccm.Maps.Tests.Tables;

public sealed class TablesTests
{
    [Fact]
    public void Pixel_csv_round_trips_and_marks_missing_values_empty()
    {
        using var dir = new TempDir();
        var path = dir.File("pixels.csv");
        var table = new PixelTable(3)
            .Add("pixel_x", [0, 1, 2])
            .Add("d_cm2_s", [2.47e-11, double.NaN, 1.0 / 3], "cm^2/s")
            .Add("flags", ["", "no_peak", "thin, layer \"?\""]);
        PixelTableCsv.Write(path, table);
        var lines = File.ReadAllLines(path);
        Assert.Equal(["pixel_x,d_cm2_s,flags", "0,2.47E-11,", "1,,no_peak", "2,0.3333333333333333,\"thin, layer \"\"?\"\"\""], lines);
        Assert.Equal(1.0 / 3, double.Parse(lines[3].Split(',')[1], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Pixel_table_refuses_mismatched_columns()
    {
        var table = new PixelTable(2);
        Assert.Throws<ArgumentException>(() => table.Add("a", [1.0]));
        table.Add("a", [1.0, 2.0]);
        Assert.Throws<ArgumentException>(() => table.Add("a", [1, 2]));
        Assert.Throws<ArgumentException>(() => table.Add("b,c", [1, 2]));
    }

    [Fact]
    public void Summary_json_writes_nan_as_null()
    {
        using var dir = new TempDir();
        var path = dir.File("summary.json");
        SummaryJson.Write(path, new JsonObject
        {
            ["meanDCm2PerS"] = SummaryJson.Number(2.47e-11),
            ["r2"] = SummaryJson.Number(double.NaN),
            ["pixels"] = 4096,
        });
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal(2.47e-11, doc.RootElement.GetProperty("meanDCm2PerS").GetDouble());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("r2").ValueKind);
        Assert.Equal(4096, doc.RootElement.GetProperty("pixels").GetInt32());
    }

    [Fact]
    public void Summary_json_with_type_info()
    {
        using var dir = new TempDir();
        var path = dir.File("s.json");
        SummaryJson.Write(path, new TestSummary("scan-1", 0.99), TestJsonContext.Default.TestSummary);
        Assert.Equal(new TestSummary("scan-1", 0.99), JsonSerializer.Deserialize(File.ReadAllText(path), TestJsonContext.Default.TestSummary));
    }

    [Fact]
    public void Atomic_write_replaces_whole_or_not_at_all()
    {
        using var dir = new TempDir();
        var path = dir.File("result.csv");
        AtomicFile.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("partial"u8);
            throw new InvalidOperationException("crash mid-write");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
        AtomicFile.WriteAllText(path, "new");
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public async Task Atomic_write_async()
    {
        using var dir = new TempDir();
        var path = dir.File("a.bin");
        await AtomicFile.WriteAsync(path, (s, ct) => s.WriteAsync(new byte[] { 1, 2, 3 }, ct).AsTask());
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public void Atomic_write_to_missing_directory_says_which()
    {
        var ex = Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.WriteAllText("/nonexistent-dir-x/a.txt", "x"));
        Assert.Contains("/nonexistent-dir-x", ex.Message, StringComparison.Ordinal);
    }
}

public sealed record TestSummary(string ScanId, double MeanR2);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(TestSummary))]
internal sealed partial class TestJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
