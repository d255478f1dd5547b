using System.Reflection;
using System.Text.RegularExpressions;
using Seccm.Contracts.Topics;
using Seccm.TestSupport;
using YamlDotNet.RepresentationModel;

namespace Seccm.Dashboards.Tests;

/// <summary>
/// docker-compose.yml, the per-instrument fragment deploy/mosquitto/facility.sh writes, .env.example and the mosquitto
/// files: valid, complete, and only settings the code reads.
/// </summary>
public sealed partial class ComposeTests
{
    // The configuration sections the services bind (HostComposer: SECCM__A__B -> A:B), by their options classes.
    private static readonly Dictionary<string, Type> Sections = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Mqtt"] = typeof(Seccm.Messaging.Hosting.MqttOptions),
        [Seccm.Storage.StorageOptions.SectionName] = typeof(Seccm.Storage.StorageOptions),
        [Seccm.Scan.ScanOptions.SectionName] = typeof(Seccm.Scan.ScanOptions),
        [Seccm.Stage.StageOptions.Section] = typeof(Seccm.Stage.StageOptions),
        [Seccm.Potentiostat.PotentiostatOptions.Section] = typeof(Seccm.Potentiostat.PotentiostatOptions),
        [Seccm.Glovebox.GloveboxOptions.Section] = typeof(Seccm.Glovebox.GloveboxOptions),
        [Seccm.Diffusion.DiffusionOptions.Section] = typeof(Seccm.Diffusion.DiffusionOptions),
    };

    private static YamlMappingNode Services => (YamlMappingNode)Repo.Yaml(Repo.PathOf("docker-compose.yml")).Get("services")!;

    [Fact]
    public void Docker_compose_accepts_the_file_with_the_example_environment()
    {
        var compose = ExternalTool.Require("docker-compose");
        using var run = ExternalTool.Start(compose, ["--env-file", Repo.PathOf(".env.example"), "-f", Repo.PathOf("docker-compose.yml"), "config", "--quiet"],
            Repo.Root);
        Assert.True(run.Process.WaitForExit(120_000), "docker-compose config hangs");
        run.Process.WaitForExit();
        Assert.True(run.Process.ExitCode == 0, $"docker-compose config rejected docker-compose.yml: {run.Output}");
    }

    [Fact]
    public void Each_service_container_runs_its_seccm_verb_with_its_own_mqtt_user_health_check_and_restart_policy()
    {
        foreach (var service in ServiceNames.All)
        {
            var node = (YamlMappingNode)Services.Get(service)!;
            Assert.True(node is not null, $"docker-compose.yml has no {service} service");
            var command = ((YamlSequenceNode)node.Get("command")!).Children.Cast<YamlScalarNode>().Select(c => c.Value).ToList();
            Assert.Equal([service], command);
            var env = Environment(node);
            // The instrument's own user (facility.sh add-instrument: <service>@<instrument>) and its password file.
            Assert.Equal($"{service}@${{SECCM_INSTRUMENT:-sim1}}", env["SECCM__MQTT__USERNAME"]);
            Assert.Equal($"/run/secrets/mqtt_{service}", env["SECCM__MQTT__PASSWORDFILE"]);
            var secret = (YamlMappingNode)((YamlMappingNode)Repo.Yaml(Repo.PathOf("docker-compose.yml")).Get("secrets")!).Get($"mqtt_{service}")!;
            Assert.Equal($"./deploy/secrets/${{SECCM_INSTRUMENT:-sim1}}/mqtt_{service}", secret.Str("file"));
            Assert.False(env.ContainsKey("SECCM__MQTT__PASSWORD"), $"{service}: the MQTT password belongs in a secret file, not the environment");
        }
        foreach (var (name, node) in Services.Children.Select(c => (((YamlScalarNode)c.Key).Value!, (YamlMappingNode)c.Value)))
        {
            Assert.True(node.Get("healthcheck") is YamlMappingNode, $"{name}: no healthcheck");
            Assert.True(node.Str("restart") is "unless-stopped" or "always", $"{name}: restart policy is '{node.Str("restart")}'");
        }
    }

    [Fact]
    public void Every_SECCM_environment_key_is_a_setting_the_code_reads()
    {
        var keys = Services.Children.Values.Cast<YamlMappingNode>().SelectMany(s => Environment(s).Keys)
            .Concat(DockerfileEnvKeys()).Where(k => k.StartsWith("SECCM__", StringComparison.Ordinal)).Distinct().ToList();
        Assert.NotEmpty(keys);
        var unknown = keys.Where(k => !IsBoundSetting(k["SECCM__".Length..].Split("__"))).ToList();
        Assert.True(unknown.Count == 0, $"not read by any options class: {string.Join(", ", unknown)}");
    }

    [Theory]
    [InlineData("SECCM__INSTRUMENT", true)]
    [InlineData("SECCM__MQTT__PASSWORDFILE", true)]
    [InlineData("SECCM__SCAN__STATEDIRECTORY", true)]
    [InlineData("SECCM__GLOVEBOX__OXYGEN__0__DRIVER", true)]
    [InlineData("SECCM__MQTT__PASSWORD_FILE", false)]
    [InlineData("SECCM__STORAGE__BUCKETNAME", false)]
    [InlineData("SECCM__NOSUCHSECTION__X", false)]
    public void The_setting_check_tells_real_keys_from_typos(string key, bool bound) =>
        Assert.Equal(bound, IsBoundSetting(key["SECCM__".Length..].Split("__")));

    [Fact]
    public void Every_variable_the_compose_file_uses_is_listed_in_env_example()
    {
        var compose = File.ReadAllText(Repo.PathOf("docker-compose.yml"));
        var used = ComposeVariable().Matches(compose).Select(m => m.Groups[1].Value).ToHashSet();
        var listed = File.ReadAllLines(Repo.PathOf(".env.example"))
            .Where(l => !l.StartsWith('#') && l.Contains('=', StringComparison.Ordinal)).Select(l => l[..l.IndexOf('=', StringComparison.Ordinal)]).ToHashSet();
        Assert.Empty(used.Except(listed));
        // Broker passwords are not in .env any more: facility.sh generates them into deploy/secrets/.
        Assert.DoesNotContain(listed, v => v.StartsWith("MQTT_PASSWORD", StringComparison.Ordinal));
    }

    [Fact]
    public void The_broker_refuses_anonymous_clients_and_every_service_has_a_user_per_instrument()
    {
        var conf = File.ReadAllLines(Repo.PathOf("deploy", "mosquitto", "mosquitto.conf")).Select(l => l.Trim()).ToList();
        Assert.Contains("allow_anonymous false", conf);
        Assert.Contains(conf, l => l.StartsWith("password_file ", StringComparison.Ordinal));
        Assert.Contains(conf, l => l.StartsWith("acl_file ", StringComparison.Ordinal));
        var aclUsers = File.ReadAllLines(Repo.PathOf("deploy", "mosquitto", "acl.d", "instrument.acl")).Select(l => l.Trim())
            .Where(l => l.StartsWith("user ", StringComparison.Ordinal)).Select(l => l[5..].Trim()).ToHashSet();
        Assert.Equal(ServiceNames.All.Select(s => $"{s}@{{instrument}}").Order(), aclUsers.Order());
        Assert.Equal(ServiceNames.All.Order(), ServicesInScript().Order());
    }

    [Fact]
    public void The_fragment_of_a_second_instrument_runs_the_same_containers_as_the_first_under_its_own_users()
    {
        ExternalTool.Require("mosquitto_passwd");
        var compose = ExternalTool.Require("docker-compose");
        var deploy = Directory.CreateTempSubdirectory("seccm-compose-fragment-").FullName;
        try
        {
            using (var add = ExternalTool.Start("bash", [Repo.PathOf("deploy", "mosquitto", "facility.sh"), "add-instrument", "lab2"], Repo.Root,
                       new Dictionary<string, string> { ["SECCM_DEPLOY_DIR"] = deploy }))
            {
                Assert.True(add.WaitForExit(TimeSpan.FromMinutes(2)) && add.Process.ExitCode == 0, $"facility.sh add-instrument failed: {add.Output}");
            }
            var fragment = Path.Combine(deploy, "instruments", "lab2", "docker-compose.yml");
            using var run = ExternalTool.Start(compose, ["--env-file", Repo.PathOf(".env.example"), "-f", Repo.PathOf("docker-compose.yml"), "-f", fragment, "config"],
                Repo.Root);
            Assert.True(run.WaitForExit(TimeSpan.FromMinutes(2)), "docker-compose config hangs");
            Assert.True(run.Process.ExitCode == 0, $"docker-compose config rejected the fragment: {run.Output}");
            var resolved = ResolvedServices(run.Output);
            // What differs between an instrument's container and the first instrument's: the instrument, its user and
            // password file, and (set per instrument) the device drivers and ports; everything else is the same.
            string[] own = ["SECCM__INSTRUMENT", "SECCM__MQTT__USERNAME", "SECCM__MQTT__PASSWORDFILE", "SECCM__STAGE__DRIVER", "SECCM__STAGE__PORT",
                "SECCM__POTENTIOSTAT__DRIVER", "SECCM__POTENTIOSTAT__PORT"];
            foreach (var service in ServiceNames.All)
            {
                var first = resolved[service];
                var second = resolved[$"{service}-lab2"];
                Assert.Equal("lab2", second["SECCM__INSTRUMENT"]);
                Assert.Equal($"{service}@lab2", second["SECCM__MQTT__USERNAME"]);
                Assert.Equal($"/run/secrets/mqtt_{service}_lab2", second["SECCM__MQTT__PASSWORDFILE"]);
                Assert.Equal(first.Where(kv => !own.Contains(kv.Key)).OrderBy(kv => kv.Key), second.Where(kv => !own.Contains(kv.Key)).OrderBy(kv => kv.Key));
                Assert.True(File.Exists(Path.Combine(deploy, "secrets", "lab2", $"mqtt_{service}")), $"no password file for {service}@lab2");
            }
            Assert.Contains($"{Repo.PathOf("deploy", "secrets", "lab2", "mqtt_stage")}", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(deploy, recursive: true);
        }
    }

    /// <summary>Environment of each service in <c>docker-compose config</c> output.</summary>
    private static Dictionary<string, Dictionary<string, string?>> ResolvedServices(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var services = (YamlMappingNode)((YamlMappingNode)stream.Documents[0].RootNode).Get("services")!;
        return services.Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => Environment((YamlMappingNode)c.Value));
    }

    private static IEnumerable<string> ServicesInScript()
    {
        var script = File.ReadAllText(Repo.PathOf("deploy", "mosquitto", "facility.sh"));
        var list = ServicesArray().Match(script);
        Assert.True(list.Success, "facility.sh: no services=(...) line");
        return list.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Walks the options classes like the configuration binder: sections, properties, list indices, nested objects.</summary>
    private static bool IsBoundSetting(string[] path)
    {
        if (path.Length == 1)
        {
            return HasSetting(typeof(Seccm.Messaging.Hosting.SeccmOptions), path);
        }
        return Sections.TryGetValue(path[0], out var type) && HasSetting(type, path[1..]);
    }

    private static bool HasSetting(Type type, string[] path)
    {
        if (path.Length == 0)
        {
            return true;
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            return int.TryParse(path[0], out _) && HasSetting(type.GetGenericArguments()[0], path[1..]);
        }
        var property = type.GetProperty(path[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null || property.SetMethod is not { IsPublic: true } && path.Length == 1)
        {
            return false;
        }
        return HasSetting(property.PropertyType, path[1..]);
    }

    private static Dictionary<string, string?> Environment(YamlMappingNode service)
    {
        var result = new Dictionary<string, string?>();
        if (service.Get("environment") is YamlMappingNode env)
        {
            foreach (var (key, value) in env.Children)
            {
                var name = ((YamlScalarNode)key).Value!;
                if (name == "<<" && value is YamlMappingNode merged)
                {
                    foreach (var (k, v) in merged.Children)
                    {
                        result[((YamlScalarNode)k).Value!] = (v as YamlScalarNode)?.Value;
                    }
                }
                else
                {
                    result[name] = (value as YamlScalarNode)?.Value;
                }
            }
        }
        return result;
    }

    private static IEnumerable<string> DockerfileEnvKeys() =>
        DockerfileSeccmKey().Matches(File.ReadAllText(Repo.PathOf("deploy", "Dockerfile"))).Select(m => m.Groups[1].Value);

    [GeneratedRegex(@"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")]
    private static partial Regex ComposeVariable();

    [GeneratedRegex(@"services=\(([^)]*)\)")]
    private static partial Regex ServicesArray();

    [GeneratedRegex(@"\b(SECCM__[A-Z0-9_]+)=")]
    private static partial Regex DockerfileSeccmKey();
}
