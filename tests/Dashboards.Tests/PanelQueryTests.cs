using System.Text.Json;
using System.Text.RegularExpressions;

namespace Seccm.Dashboards.Tests;

/// <summary>
/// Every panel, variable, annotation and alert query, run against an influxd that `seccm demo` filled: each must be valid
/// InfluxQL and return rows, so no dashboard panel stays empty because of a wrong measurement, field or tag name.
/// </summary>
public sealed partial class PanelQueryTests(DemoDatabase demo) : IClassFixture<DemoDatabase>
{
    public static TheoryData<string, string> Queries()
    {
        var data = new TheoryData<string, string>();
        foreach (var q in Dashboard.AllQueries().Concat(Dashboard.AlertQueries()))
        {
            data.Add(q.Where, q.Query);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task The_query_returns_rows_from_the_demo_data(string where, string query)
    {
        var sent = demo.Substitute(query);
        if (where.Contains(" rule ", StringComparison.Ordinal))
        {
            // An alert that counts bad points ("online" = false) is empty while all is well, as in the demo: without the
            // filter the query must still find the field, so a renamed field or measurement is caught.
            sent = BadPointFilter().Replace(sent, "");
        }
        using var doc = await QueryAsync(where, sent);
        var result = doc.RootElement.GetProperty("results")[0];
        var rows = result.TryGetProperty("series", out var series)
            ? series.EnumerateArray().Sum(s => s.TryGetProperty("values", out var v) ? v.GetArrayLength() : 0)
            : 0;
        Assert.True(rows > 0, $"{where}: no rows for\n  {sent}\n(instrument {demo.Instrument}, scan {demo.ScanId}, pixel {demo.Pixel}). " +
            $"Measurements written: {await MeasurementsAsync()}");
    }

    [Fact]
    public async Task The_demo_filled_the_database_and_the_variables()
    {
        Assert.False(string.IsNullOrEmpty(demo.Instrument));
        Assert.False(string.IsNullOrEmpty(demo.ScanId), $"no scan_id tag in pixel_result or scan_progress; demo said: {demo.DemoOutput}");
        Assert.True(demo.EndNs > demo.StartNs);
        Assert.NotEmpty(await MeasurementsAsync());
    }

    private async Task<JsonDocument> QueryAsync(string where, string sent)
    {
        try
        {
            return await demo.Influxd.QueryAsync(DemoDatabase.Database, sent);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"{where}: {ex.Message}", ex);
        }
    }

    private async Task<string> MeasurementsAsync() =>
        string.Join(", ", (await demo.Influxd.RowsAsync(DemoDatabase.Database, "SHOW MEASUREMENTS")).Select(r => r["name"].GetString()));

    [GeneratedRegex(@"""\w+"" = (true|false) AND ")]
    private static partial Regex BadPointFilter();
}
