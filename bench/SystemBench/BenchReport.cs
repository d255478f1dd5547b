using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Seccm.Host.Bench;

/// <summary>
/// The results of one <c>seccm-bench</c> run: named numbers with units, printed as a table and optionally written
/// as JSON. Ratios are rows like any other, so a reader compares against the baseline measured in the same run.
/// </summary>
internal sealed class BenchReport(string name)
{
    private readonly List<Row> _rows = [];
    private readonly List<(string Key, string Text)> _info = [];

    internal sealed record Row(string Metric, double Value, string Unit, string Note);

    public string Name { get; } = name;

    public IReadOnlyList<Row> Rows => _rows;

    /// <summary>Context that is not a number (which broker, which files).</summary>
    public void AddInfo(string key, string text) => _info.Add((key, text));

    public void Add(string metric, double value, string unit, string note = "") => _rows.Add(new Row(metric, value, unit, note));

    public void Print(TextWriter output)
    {
        output.WriteLine($"seccm-bench {Name} ({Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription})");
        foreach (var (key, text) in _info)
        {
            output.WriteLine($"  {key}: {text}");
        }
        var values = _rows.Select(r => Format(r.Value)).ToArray();
        int metricWidth = Math.Max("metric".Length, _rows.Count == 0 ? 0 : _rows.Max(r => r.Metric.Length));
        int valueWidth = Math.Max("value".Length, values.Length == 0 ? 0 : values.Max(v => v.Length));
        int unitWidth = Math.Max("unit".Length, _rows.Count == 0 ? 0 : _rows.Max(r => r.Unit.Length));
        output.WriteLine($"{"metric".PadRight(metricWidth)}  {"value".PadLeft(valueWidth)}  {"unit".PadRight(unitWidth)}  note");
        output.WriteLine(new string('-', metricWidth + valueWidth + unitWidth + 10));
        for (int i = 0; i < _rows.Count; i++)
        {
            var r = _rows[i];
            output.WriteLine($"{r.Metric.PadRight(metricWidth)}  {values[i].PadLeft(valueWidth)}  {r.Unit.PadRight(unitWidth)}  {r.Note}".TrimEnd());
        }
    }

    /// <summary>Writes <c>{"bench": ..., "machine": {...}, "results": {metric: {value, unit, note}}}</c>.</summary>
    public void WriteJson(string path)
    {
        var results = new JsonObject();
        foreach (var r in _rows)
        {
            results[r.Metric] = new JsonObject
            {
                ["value"] = double.IsFinite(r.Value) ? JsonValue.Create(r.Value) : null,
                ["unit"] = r.Unit,
                ["note"] = r.Note,
            };
        }
        var info = new JsonObject();
        foreach (var (key, text) in _info)
        {
            info[key] = text;
        }
        var root = new JsonObject
        {
            ["bench"] = Name,
            ["info"] = info,
            ["machine"] = new JsonObject
            {
                ["cores"] = Environment.ProcessorCount,
                ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
                ["server_gc"] = System.Runtime.GCSettings.IsServerGC,
            },
            ["results"] = results,
        };
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static string Format(double value) =>
        !double.IsFinite(value) ? "n/a"
        : value == Math.Round(value) && Math.Abs(value) < 1e12 ? value.ToString("0", CultureInfo.InvariantCulture)
        : Math.Abs(value) >= 0.01 && Math.Abs(value) < 1e6 ? value.ToString("0.###", CultureInfo.InvariantCulture)
        : value.ToString("0.###e+0", CultureInfo.InvariantCulture);
}
