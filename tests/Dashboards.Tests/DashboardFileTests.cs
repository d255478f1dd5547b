using System.Text.Json;

namespace Seccm.Dashboards.Tests;

/// <summary>The dashboard JSON of dashboards/json: parseable, stable uids, resolvable datasources, sane layout.</summary>
public sealed class DashboardFileTests
{
    // Links, kiosk URLs on wall displays and GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH depend on these: never change them.
    private static readonly Dictionary<string, string> StableUids = new()
    {
        ["facility/facility-overview.json"] = "seccm-facility",
        ["instruments/instrument-live.json"] = "seccm-live",
        ["instruments/scan-results.json"] = "seccm-scan-results",
        ["instruments/glovebox-history.json"] = "seccm-glovebox-history",
    };

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var file in Repo.DashboardFiles())
        {
            data.Add(Path.GetRelativePath(Repo.PathOf("dashboards", "json"), file).Replace('\\', '/'));
        }
        return data;
    }

    [Fact]
    public void Every_dashboard_has_its_stable_uid_and_the_uids_are_unique()
    {
        var uids = new Dictionary<string, string>();
        foreach (var file in Repo.DashboardFiles())
        {
            var name = Path.GetRelativePath(Repo.PathOf("dashboards", "json"), file).Replace('\\', '/');
            using var doc = Repo.Json(file);
            var uid = doc.RootElement.GetProperty("uid").GetString()!;
            Assert.True(StableUids.TryGetValue(name, out var expected), $"{name}: new dashboard; add its uid to StableUids.");
            Assert.Equal(expected, uid);
            Assert.True(uids.TryAdd(uid, name), $"uid {uid} used by both {uids.GetValueOrDefault(uid)} and {name}");
        }
        Assert.Equal(StableUids.Count, uids.Count);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Panels_have_queries_on_the_provisioned_datasource_and_fit_the_grid(string file)
    {
        using var doc = Repo.Json(Repo.PathOf("dashboards", "json", file));
        var root = doc.RootElement;
        Assert.InRange(root.GetProperty("schemaVersion").GetInt32(), 36, 41);
        var ids = new HashSet<int>();
        var cells = new Dictionary<(int X, int Y), string>();
        foreach (var panel in Dashboard.Panels(root))
        {
            var title = Dashboard.Title(panel);
            Assert.True(ids.Add(panel.GetProperty("id").GetInt32()), $"{file}: panel id {panel.GetProperty("id")} repeats ('{title}')");
            var grid = panel.GetProperty("gridPos");
            int x = grid.GetProperty("x").GetInt32(), y = grid.GetProperty("y").GetInt32();
            int w = grid.GetProperty("w").GetInt32(), h = grid.GetProperty("h").GetInt32();
            Assert.True(x >= 0 && w > 0 && h > 0 && x + w <= 24, $"{file}: panel '{title}' gridPos x={x} w={w} h={h} is outside the 24 columns");
            for (var cx = x; cx < x + w; cx++)
            {
                for (var cy = y; cy < y + h; cy++)
                {
                    Assert.True(cells.TryAdd((cx, cy), title), $"{file}: panels '{cells.GetValueOrDefault((cx, cy))}' and '{title}' overlap at ({cx},{cy})");
                }
            }
            if (Dashboard.IsRow(panel))
            {
                continue;
            }
            AssertDatasource(panel.GetProperty("datasource"), $"{file} panel '{title}'");
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.True(targets.Count > 0, $"{file}: panel '{title}' has no query");
            foreach (var target in targets)
            {
                AssertDatasource(target.GetProperty("datasource"), $"{file} panel '{title}' query {target.GetProperty("refId")}");
                Assert.True(target.GetProperty("rawQuery").GetBoolean(), $"{file}: panel '{title}' query is not raw InfluxQL");
                Assert.StartsWith("SELECT ", target.GetProperty("query").GetString(), StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_variable_a_query_uses_is_defined_and_queries_the_provisioned_datasource(string file)
    {
        using var doc = Repo.Json(Repo.PathOf("dashboards", "json", file));
        var variables = doc.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
        var names = variables.Select(v => v.GetProperty("name").GetString()!).ToHashSet();
        foreach (var variable in variables)
        {
            AssertDatasource(variable.GetProperty("datasource"), $"{file} variable {variable.GetProperty("name")}");
        }
        var prefix = file.Replace('/', Path.DirectorySeparatorChar);
        foreach (var query in Dashboard.AllQueries().Where(q => q.Where.Contains(prefix, StringComparison.Ordinal)))
        {
            foreach (var used in Dashboard.UsedVariables(query.Query))
            {
                Assert.True(names.Contains(used), $"{query.Where}: uses ${used}, which the dashboard does not define");
            }
        }
    }

    [Fact]
    public void The_facility_overview_repeats_per_instrument_for_wall_displays()
    {
        using var doc = Repo.Json(Repo.PathOf("dashboards", "json", "facility", "facility-overview.json"));
        var root = doc.RootElement;
        var instrument = root.GetProperty("templating").GetProperty("list").EnumerateArray()
            .Single(v => v.GetProperty("name").GetString() == "instrument");
        Assert.True(instrument.GetProperty("multi").GetBoolean());
        Assert.True(instrument.GetProperty("includeAll").GetBoolean());
        Assert.Equal("$__all", instrument.GetProperty("current").GetProperty("value")[0].GetString());
        Assert.Contains("SHOW TAG VALUES", instrument.GetProperty("query").GetString(), StringComparison.Ordinal);
        Assert.Contains(Dashboard.Panels(root), p => p.TryGetProperty("repeat", out var r) && r.GetString() == "instrument");
        Assert.Equal("dark", root.GetProperty("style").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("refresh").GetString()), "a wall display must refresh itself");
    }

    [Theory]
    [InlineData("O2", 5.0, 10.0)]
    [InlineData("Dew point", -70.0, -60.0)]
    public void The_facility_overview_colours_the_glovebox_limits(string title, double warning, double alarm)
    {
        using var doc = Repo.Json(Repo.PathOf("dashboards", "json", "facility", "facility-overview.json"));
        var panel = Dashboard.Panels(doc.RootElement).Single(p => Dashboard.Title(p) == title);
        var steps = panel.GetProperty("fieldConfig").GetProperty("defaults").GetProperty("thresholds").GetProperty("steps")
            .EnumerateArray().Where(s => s.GetProperty("value").ValueKind == JsonValueKind.Number)
            .Select(s => (s.GetProperty("value").GetDouble(), s.GetProperty("color").GetString())).ToList();
        Assert.Equal([(warning, "orange"), (alarm, "red")], steps);
    }

    [Fact]
    public void The_committed_dashboards_are_what_generate_py_writes()
    {
        // The JSON is generated; a hand edit would be lost at the next generation. Regenerate into a temp copy and compare.
        var python = FindPython();
        var temp = Directory.CreateTempSubdirectory("seccm-dash-").FullName;
        try
        {
            File.Copy(Repo.PathOf("dashboards", "generate.py"), Path.Combine(temp, "generate.py"));
            Directory.CreateDirectory(Path.Combine(temp, "json", "facility"));
            Directory.CreateDirectory(Path.Combine(temp, "json", "instruments"));
            using (var run = Seccm.TestSupport.ExternalTool.Start(python, [Path.Combine(temp, "generate.py")], temp))
            {
                Assert.True(run.Process.WaitForExit(60_000) && run.Process.ExitCode == 0, $"generate.py failed: {run.Output}");
            }
            foreach (var file in Repo.DashboardFiles())
            {
                var rel = Path.GetRelativePath(Repo.PathOf("dashboards"), file);
                Assert.True(File.ReadAllText(file) == File.ReadAllText(Path.Combine(temp, rel)),
                    $"{Repo.Relative(file)} differs from what dashboards/generate.py writes: edit generate.py and regenerate.");
            }
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    private static string FindPython() => Seccm.TestSupport.ExternalTool.Require("python3");

    private static void AssertDatasource(JsonElement datasource, string where)
    {
        var uid = datasource.GetProperty("uid").GetString();
        Assert.True(uid == Repo.DatasourceUid, $"{where}: datasource uid '{uid}' is not the provisioned '{Repo.DatasourceUid}'");
        Assert.Equal("influxdb", datasource.GetProperty("type").GetString());
    }
}
