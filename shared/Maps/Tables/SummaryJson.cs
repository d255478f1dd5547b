using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Seccm.Maps.Tables;

/// <summary>Writes <c>summary.json</c>-style files: indented UTF-8 JSON, atomically.</summary>
public static class SummaryJson
{
    private static readonly JsonSerializerOptions NodeOptions = new() { WriteIndented = true };

    /// <summary>Serialises with a source-generated type info (whose options decide naming and indentation).</summary>
    public static void Write<T>(string path, T value, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            JsonSerializer.Serialize(writer, value, typeInfo);
        });
    }

    /// <summary>Writes a JSON tree; build numbers with <see cref="Number"/> so NaN becomes null instead of an exception.</summary>
    public static void Write(string path, JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        AtomicFile.WriteAllText(path, node.ToJsonString(NodeOptions) + "\n");
    }

    /// <summary>A JSON number, or null for NaN and infinities (JSON has no such numbers).</summary>
    public static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
