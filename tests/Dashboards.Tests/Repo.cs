using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace Seccm.Dashboards.Tests;

/// <summary>Paths and parsed files of the repository (dashboards/, deploy/, docker-compose.yml).</summary>
internal static class Repo
{
    public const string DatasourceUid = "seccm-influx";

    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static IReadOnlyList<string> DashboardFiles() =>
        Directory.GetFiles(PathOf("dashboards", "json"), "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

    public static IReadOnlyList<string> ProvisioningFiles(string kind) =>
        Directory.GetFiles(PathOf("dashboards", "provisioning", kind), "*.yaml").Order(StringComparer.Ordinal).ToList();

    public static JsonDocument Json(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"{path}: not valid JSON (line {ex.LineNumber + 1}): {ex.Message}", ex);
        }
    }

    public static YamlMappingNode Yaml(string path)
    {
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new InvalidOperationException($"{path}: not valid YAML at line {ex.Start.Line}: {ex.Message}", ex);
        }
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    public static string Relative(string path) => Path.GetRelativePath(Root, path);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "seccm.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No seccm.slnx above {AppContext.BaseDirectory}.");
    }
}

internal static class YamlExtensions
{
    /// <summary>The value of <paramref name="key"/>, also through YAML merge keys (<c>&lt;&lt;: *anchor</c>).</summary>
    public static YamlNode? Get(this YamlMappingNode node, string key)
    {
        if (node.Children.TryGetValue(new YamlScalarNode(key), out var value))
        {
            return value;
        }
        return node.Children.TryGetValue(new YamlScalarNode("<<"), out var merged) && merged is YamlMappingNode map ? map.Get(key) : null;
    }

    public static string? Str(this YamlMappingNode node, string key) => (node.Get(key) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlMappingNode> Items(this YamlMappingNode node, string key) =>
        node.Get(key) is YamlSequenceNode seq ? seq.Children.OfType<YamlMappingNode>() : [];
}
