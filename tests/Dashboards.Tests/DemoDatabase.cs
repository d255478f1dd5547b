using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Seccm.TestSupport;

namespace Seccm.Dashboards.Tests;

/// <summary>
/// A real influxd filled by one run of <c>seccm demo --size 4</c> (the five services writing through Storage:Kind=influxdb1),
/// shared by the query tests. Knows the instrument, scan, a pixel and the time span of the data, to fill in
/// Grafana's variables the way Grafana would.
/// </summary>
public sealed partial class DemoDatabase : IAsyncLifetime
{
    public const string Database = "seccm";

    private InfluxdServer? _influxd;
    private string? _outDir;

    public InfluxdServer Influxd => _influxd ?? throw new InvalidOperationException("influxd is not started");

    public string DemoOutput { get; private set; } = "";

    public string Instrument { get; private set; } = "";

    public string ScanId { get; private set; } = "";

    public long Pixel { get; private set; }

    public long StartNs { get; private set; }

    public long EndNs { get; private set; }

    public async Task InitializeAsync()
    {
        _influxd = await InfluxdServer.StartNewAsync();
        _outDir = Directory.CreateTempSubdirectory("seccm-dash-demo-").FullName;
        var dll = Path.Combine(AppContext.BaseDirectory, "seccm.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"seccm.dll is not beside the tests at {dll}.");
        }
        var env = new Dictionary<string, string>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_gcServer"] = "0",
            ["SECCM__STORAGE__KIND"] = "influxdb1",
            ["SECCM__STORAGE__URL"] = _influxd.Url.ToString().TrimEnd('/'),
            ["SECCM__STORAGE__DATABASE"] = Database,
            ["SECCM__STORAGE__FLUSHINTERVALMS"] = "200",
        };
        using var demo = ExternalTool.Start("dotnet", [dll, "demo", "--size", "4", "--out", _outDir], _outDir, env);
        // Hang detection only: a 4 x 4 demo takes well under a minute; a scan stuck in "paused" never ends.
        if (!demo.Process.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            demo.Kill();
            throw new InvalidOperationException($"seccm demo did not finish within 4 minutes: {demo.Output}");
        }
        demo.Process.WaitForExit();
        DemoOutput = demo.Output;
        if (demo.Process.ExitCode != 0)
        {
            throw new InvalidOperationException($"seccm demo exited with {demo.Process.ExitCode}: {demo.Output}");
        }

        Instrument = await FirstTagAsync("glovebox", "instrument") ?? await FirstTagAsync("scan_progress", "instrument") ?? "sim1";
        ScanId = await FirstTagAsync("pixel_result", "scan_id") ?? await FirstTagAsync("scan_progress", "scan_id") ?? "";
        var pixels = await Influxd.RowsAsync(Database, $"SELECT \"pixel\" FROM \"cv_peak\" WHERE \"scan_id\" = '{ScanId}' LIMIT 1");
        Pixel = pixels.Count > 0 && pixels[0]["pixel"].ValueKind == JsonValueKind.Number ? pixels[0]["pixel"].GetInt64() : 0;
        (StartNs, EndNs) = await TimeSpanAsync();
    }

    /// <summary>The query with Grafana's variables filled in as Grafana would send it.</summary>
    public string Substitute(string query)
    {
        var intervalMs = Math.Max(1, (EndNs - StartNs) / 1_000_000 / 200);
        var text = query
            .Replace("$timeFilter", string.Create(CultureInfo.InvariantCulture, $"time >= {StartNs} AND time <= {EndNs}"), StringComparison.Ordinal)
            .Replace("$__interval", string.Create(CultureInfo.InvariantCulture, $"{intervalMs}ms"), StringComparison.Ordinal);
        // In a regex (=~ /^$instrument$/) Grafana writes multi-value variables as (a|b); elsewhere the plain value.
        text = RegexVariable().Replace(text, m => m.Groups[1].Value switch
        {
            "instrument" => $"({Regex.Escape(Instrument)})$/",
            var other => throw new InvalidOperationException($"no test value for ${other} in a regex"),
        });
        return text
            .Replace("$instrument", Instrument, StringComparison.Ordinal)
            .Replace("$scan", ScanId, StringComparison.Ordinal)
            .Replace("$pixel", Pixel.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    private async Task<string?> FirstTagAsync(string measurement, string key)
    {
        var rows = await Influxd.RowsAsync(Database, $"SHOW TAG VALUES FROM \"{measurement}\" WITH KEY = \"{key}\"");
        return rows.Count > 0 ? rows[0]["value"].GetString() : null;
    }

    private async Task<(long Start, long End)> TimeSpanAsync()
    {
        long start = long.MaxValue, end = long.MinValue;
        foreach (var measurement in (await Influxd.RowsAsync(Database, "SHOW MEASUREMENTS")).Select(r => r["name"].GetString()!))
        {
            foreach (var order in new[] { "ASC", "DESC" })
            {
                var rows = await Influxd.RowsAsync(Database, $"SELECT * FROM \"{measurement}\" ORDER BY time {order} LIMIT 1");
                foreach (var row in rows)
                {
                    var t = row["time"].GetInt64();
                    start = Math.Min(start, t);
                    end = Math.Max(end, t);
                }
            }
        }
        if (start > end)
        {
            throw new InvalidOperationException($"seccm demo wrote nothing to influxd. It said: {DemoOutput}");
        }
        return (start - 1_000_000_000, end + 1_000_000_000);
    }

    public async Task DisposeAsync()
    {
        if (_influxd is not null)
        {
            await _influxd.DisposeAsync();
        }
        if (_outDir is not null)
        {
            try
            {
                Directory.Delete(_outDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [GeneratedRegex(@"\$(\w+)\$/")]
    private static partial Regex RegexVariable();
}
