using YamlDotNet.RepresentationModel;

namespace Seccm.Dashboards.Tests;

/// <summary>Grafana file provisioning: datasource, dashboard providers, alert rules, contact points, policies.</summary>
public sealed class ProvisioningTests
{
    [Fact]
    public void The_datasource_is_influxql_with_the_stable_uid()
    {
        var datasources = Repo.ProvisioningFiles("datasources").SelectMany(f => Repo.Yaml(f).Items("datasources")).ToList();
        var influx = Assert.Single(datasources);
        Assert.Equal(Repo.DatasourceUid, influx.Str("uid"));
        Assert.Equal("influxdb", influx.Str("type"));
        var json = (YamlMappingNode)influx.Get("jsonData")!;
        Assert.Equal("InfluxQL", json.Str("version"));
        Assert.False(string.IsNullOrWhiteSpace(json.Str("dbName")));
        // Secrets come from the environment, never from the repository.
        var secure = (YamlMappingNode)influx.Get("secureJsonData")!;
        Assert.All(secure.Children.Values.Cast<YamlScalarNode>(), v => Assert.StartsWith("${", v.Value, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_dashboard_provider_points_at_a_mounted_folder_of_dashboards()
    {
        var compose = Repo.Yaml(Repo.PathOf("docker-compose.yml"));
        var grafana = (YamlMappingNode)((YamlMappingNode)compose.Get("services")!).Get("grafana")!;
        var mounts = ((YamlSequenceNode)grafana.Get("volumes")!).Children.Cast<YamlScalarNode>().Select(v => v.Value!.Split(':'))
            .Where(p => p[0].StartsWith("./", StringComparison.Ordinal)).ToDictionary(p => p[1], p => p[0]);
        var folders = new HashSet<string>();
        var covered = new HashSet<string>();
        foreach (var provider in Repo.ProvisioningFiles("dashboards").SelectMany(f => Repo.Yaml(f).Items("providers")))
        {
            Assert.Equal("file", provider.Str("type"));
            Assert.True(folders.Add(provider.Str("folderUid")!), $"provider {provider.Str("name")}: folderUid repeats");
            var path = ((YamlMappingNode)provider.Get("options")!).Str("path")!;
            var mount = mounts.Keys.Where(m => path.StartsWith(m, StringComparison.Ordinal)).MaxBy(m => m.Length);
            Assert.True(mount is not null, $"provider {provider.Str("name")}: {path} is not mounted into the grafana container");
            var hostDir = Path.GetFullPath(Path.Combine(Repo.Root, mounts[mount!] + path[mount!.Length..]));
            var files = Directory.Exists(hostDir) ? Directory.GetFiles(hostDir, "*.json") : [];
            Assert.True(files.Length > 0, $"provider {provider.Str("name")}: no dashboards in {hostDir}");
            covered.UnionWith(files.Select(Path.GetFullPath));
        }
        Assert.Equal(Repo.DashboardFiles().Select(Path.GetFullPath).Order(), covered.Order());
    }

    [Fact]
    public void Alert_rules_have_unique_uids_resolvable_datasources_and_a_present_condition()
    {
        var uids = new HashSet<string>();
        var titles = new List<string>();
        foreach (var file in Repo.ProvisioningFiles("alerting"))
        {
            foreach (var group in Repo.Yaml(file).Items("groups"))
            {
                Assert.False(string.IsNullOrWhiteSpace(group.Str("folder")), $"{file}: group {group.Str("name")} has no folder");
                foreach (var rule in group.Items("rules"))
                {
                    var uid = rule.Str("uid")!;
                    Assert.True(uids.Add(uid), $"alert rule uid {uid} repeats");
                    titles.Add(rule.Str("title")!);
                    var refs = rule.Items("data").Select(d => d.Str("refId")!).ToList();
                    Assert.Contains(rule.Str("condition"), refs);
                    foreach (var data in rule.Items("data"))
                    {
                        var ds = data.Str("datasourceUid");
                        Assert.True(ds is Repo.DatasourceUid or "__expr__", $"rule {uid} {data.Str("refId")}: datasource {ds} is not provisioned");
                        var model = (YamlMappingNode)data.Get("model")!;
                        if (ds == "__expr__")
                        {
                            Assert.Contains(model.Str("expression"), refs);
                        }
                        else
                        {
                            Assert.StartsWith("SELECT ", model.Str("query"), StringComparison.Ordinal);
                        }
                    }
                }
            }
        }
        Assert.Contains(titles, t => t.Contains("O2", StringComparison.Ordinal));
        Assert.Contains(titles, t => t.Contains("H2O", StringComparison.Ordinal));
        Assert.Contains(titles, t => t.Contains("offline", StringComparison.Ordinal));
        Assert.Contains(titles, t => t.Contains("interlock", StringComparison.Ordinal));
    }

    [Fact]
    public void Notification_policies_route_to_provisioned_contact_points()
    {
        var files = Repo.ProvisioningFiles("alerting").Select(Repo.Yaml).ToList();
        var contactPoints = files.SelectMany(f => f.Items("contactPoints")).Select(c => c.Str("name")).ToHashSet();
        var policies = files.SelectMany(f => f.Items("policies")).ToList();
        Assert.NotEmpty(policies);
        foreach (var policy in policies)
        {
            Assert.Contains(policy.Str("receiver"), contactPoints);
            foreach (var route in policy.Items("routes"))
            {
                Assert.Contains(route.Str("receiver"), contactPoints);
            }
        }
    }
}
