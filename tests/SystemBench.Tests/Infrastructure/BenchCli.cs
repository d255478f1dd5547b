using System.Text.Json;
using Seccm.TestSupport;

namespace Seccm.Host.Bench.Tests.Infrastructure;

/// <summary>Runs the real <c>seccm-bench</c> (seccm-bench.dll built beside the tests) as a child process, as a user runs it.</summary>
public static class BenchCli
{
    private static readonly CliTool SeccmBench = new("seccm-bench");

    public static Task<CliResult> RunAsync(params string[] args) => SeccmBench.RunAsync(args);

    /// <summary>The numeric results of a <c>seccm-bench ... --out FILE</c> JSON, metric → value.</summary>
    public static Dictionary<string, double> ReadBenchResults(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("results").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("value").ValueKind == JsonValueKind.Number ? p.Value.GetProperty("value").GetDouble() : double.NaN);
    }

    /// <summary>The metric is in the results and a positive, finite number (what it is, is for the reader of the table).</summary>
    public static void AssertPositive(Dictionary<string, double> values, string metric)
    {
        Assert.True(values.TryGetValue(metric, out var v), $"no '{metric}' in the results: {string.Join(", ", values.Keys)}");
        Assert.True(double.IsFinite(v) && v > 0, $"{metric} = {v}, expected a positive number");
    }
}
