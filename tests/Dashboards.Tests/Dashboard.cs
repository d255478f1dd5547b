using System.Text.Json;
using System.Text.RegularExpressions;

namespace Seccm.Dashboards.Tests;

/// <summary>One InfluxQL query found in a dashboard or rule file, with where it came from for messages.</summary>
internal sealed record PanelQuery(string Where, string Query);

/// <summary>Reads the queries out of dashboards and alert rules.</summary>
internal static partial class Dashboard
{
    public static IEnumerable<JsonElement> Panels(JsonElement dashboard)
    {
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var inner))
            {
                foreach (var p in inner.EnumerateArray())
                {
                    yield return p;
                }
            }
        }
    }

    public static bool IsRow(JsonElement panel) => panel.GetProperty("type").GetString() == "row";

    public static string Title(JsonElement panel) => panel.TryGetProperty("title", out var t) ? t.GetString() ?? "" : "";

    /// <summary>Every query of every dashboard: panel targets, query variables and annotations.</summary>
    public static IEnumerable<PanelQuery> AllQueries()
    {
        foreach (var file in Repo.DashboardFiles())
        {
            using var doc = Repo.Json(file);
            var root = doc.RootElement;
            var name = Repo.Relative(file);
            foreach (var panel in Panels(root).Where(p => !IsRow(p)))
            {
                foreach (var target in panel.GetProperty("targets").EnumerateArray())
                {
                    yield return new PanelQuery($"{name} panel '{Title(panel)}' {target.GetProperty("refId").GetString()}",
                        target.GetProperty("query").GetString()!);
                }
            }
            foreach (var variable in root.GetProperty("templating").GetProperty("list").EnumerateArray())
            {
                if (variable.GetProperty("type").GetString() == "query")
                {
                    yield return new PanelQuery($"{name} variable ${variable.GetProperty("name").GetString()}", variable.GetProperty("query").GetString()!);
                }
            }
            foreach (var annotation in root.GetProperty("annotations").GetProperty("list").EnumerateArray())
            {
                if (annotation.TryGetProperty("query", out var q))
                {
                    yield return new PanelQuery($"{name} annotation '{annotation.GetProperty("name").GetString()}'", q.GetString()!);
                }
            }
        }
    }

    /// <summary>The InfluxQL queries of the provisioned alert rules.</summary>
    public static IEnumerable<PanelQuery> AlertQueries()
    {
        foreach (var file in Repo.ProvisioningFiles("alerting"))
        {
            var root = Repo.Yaml(file);
            foreach (var group in root.Items("groups"))
            {
                foreach (var rule in group.Items("rules"))
                {
                    foreach (var data in rule.Items("data"))
                    {
                        if (data.Str("datasourceUid") == Repo.DatasourceUid && data.Get("model") is YamlDotNet.RepresentationModel.YamlMappingNode model)
                        {
                            yield return new PanelQuery($"{Repo.Relative(file)} rule {rule.Str("uid")} {data.Str("refId")}", model.Str("query")!);
                        }
                    }
                }
            }
        }
    }

    /// <summary>Grafana template variables a query uses ($name or ${name}), without the built-ins.</summary>
    public static IEnumerable<string> UsedVariables(string query) =>
        VariablePattern().Matches(query).Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)
            .Where(v => !v.StartsWith("__", StringComparison.Ordinal) && !v.StartsWith("tag_", StringComparison.Ordinal)
                && v != "timeFilter" && v != "interval")
            .Distinct();

    [GeneratedRegex(@"\$\{(\w+)[^}]*\}|\$(\w+)")]
    private static partial Regex VariablePattern();
}
