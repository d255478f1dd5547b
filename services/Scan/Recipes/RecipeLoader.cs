using System.Globalization;
using System.Text.Json.Nodes;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Seccm.Scan.Recipes;

/// <summary>Reads recipes from JSON or YAML files and checks them; every error names the file and the field.</summary>
public static class RecipeLoader
{
    public static Recipe LoadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new RecipeException($"{path}: no such recipe file.");
        }
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses recipe text; YAML unless it starts with '{' (JSON). <paramref name="source"/> names it in errors.</summary>
    public static Recipe Parse(string text, string source)
    {
        var json = text.TrimStart().StartsWith('{') ? text : YamlToJson(text, source);
        Recipe recipe;
        try
        {
            recipe = SeccmJson.Deserialize<Recipe>(System.Text.Encoding.UTF8.GetBytes(json), source);
        }
        catch (PayloadException ex)
        {
            throw new RecipeException(ex.Message.Replace("invalid Recipe at $.", "field ", StringComparison.Ordinal));
        }
        var problems = RecipeValidator.Validate(recipe).ToList();
        if (problems.Count > 0)
        {
            throw new RecipeException($"{source}: {string.Join("; ", problems)}");
        }
        return recipe;
    }

    /// <summary>The recipes shipped with seccm (embedded), by name: lto-d-map, lto-current-map, ...</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = typeof(RecipeLoader).Assembly.GetManifestResourceNames()
        .Where(n => n.EndsWith(".yaml", StringComparison.Ordinal))
        .Select(n => n.Split('.')[^2])
        .Order(StringComparer.Ordinal)
        .ToList();

    public static Recipe LoadBuiltIn(string name)
    {
        var resource = typeof(RecipeLoader).Assembly.GetManifestResourceNames()
            .FirstOrDefault(n => n.EndsWith($".{name}.yaml", StringComparison.Ordinal))
            ?? throw new RecipeException($"There is no built-in recipe '{name}'; there are: {string.Join(", ", BuiltInNames)}.");
        using var stream = typeof(RecipeLoader).Assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), $"built-in recipe {name}");
    }

    /// <summary>A recipe file path, or the name of a built-in recipe.</summary>
    public static Recipe LoadFileOrBuiltIn(string pathOrName) =>
        File.Exists(pathOrName) || pathOrName.Contains('/', StringComparison.Ordinal) || pathOrName.Contains('.', StringComparison.Ordinal)
            ? LoadFile(pathOrName)
            : LoadBuiltIn(pathOrName);

    private static string YamlToJson(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new RecipeException($"{source} line {ex.Start.Line}, column {ex.Start.Column}: not valid YAML: {ex.InnerException?.Message ?? ex.Message}");
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet throws these instead of a YamlException on some malformed flow collections and aliases.
            throw new RecipeException($"{source}: not valid YAML ({ex.Message}); check brackets and braces.");
        }
        if (stream.Documents.Count == 0)
        {
            throw new RecipeException($"{source}: the recipe is empty.");
        }
        try
        {
            return ToNode(stream.Documents[0].RootNode, source)?.ToJsonString() ?? "null";
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidCastException or ArgumentException)
        {
            // YAML that parses but is no plain tree of named fields (complex keys, repeated keys, odd nodes).
            throw new RecipeException($"{source}: not a recipe (a mapping of named fields): {ex.Message}");
        }
    }

    /// <summary>Deeper than any recipe needs; a deeper document would exhaust the stack.</summary>
    private const int MaxDepth = 32;

    private static JsonNode? ToNode(YamlNode node, string source, int depth = 0)
    {
        if (depth > MaxDepth)
        {
            throw new RecipeException($"{source} line {node.Start.Line}: the recipe nests deeper than {MaxDepth} levels.");
        }
        return node switch
        {
            YamlMappingNode map => new JsonObject(map.Children.Select(kv =>
                KeyValuePair.Create(kv.Key is YamlScalarNode key ? key.Value ?? "" : throw new RecipeException(
                    $"{source} line {kv.Key.Start.Line}: a key must be a plain name."), ToNode(kv.Value, source, depth + 1)))),
            YamlSequenceNode seq => new JsonArray(seq.Children.Select(child => ToNode(child, source, depth + 1)).ToArray()),
            YamlScalarNode scalar => Scalar(scalar),
            _ => null,
        };
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted)
        {
            return JsonValue.Create(value);
        }
        if (value is "" or "~" or "null")
        {
            return null;
        }
        if (value is "true" or "false")
        {
            return JsonValue.Create(value == "true");
        }
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            return JsonValue.Create(d);
        }
        return JsonValue.Create(value);
    }
}

/// <summary>A recipe that cannot run; the message names the file and the field.</summary>
public sealed class RecipeException(string message) : Exception(message);
