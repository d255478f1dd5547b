using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Seccm.Contracts.Messages;

namespace Seccm.Contracts.Serialization;

/// <summary>Serialises payloads through <see cref="SeccmJsonContext"/>; the only JSON entry point for messages.</summary>
public static class SeccmJson
{
    public static JsonTypeInfo<T> Info<T>() =>
        SeccmJsonContext.Default.GetTypeInfo(typeof(T)) as JsonTypeInfo<T>
        ?? throw new InvalidOperationException(
            $"{typeof(T).Name} is not registered in SeccmJsonContext: add [JsonSerializable(typeof({typeof(T).Name}))] next to it.");

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Info<T>());

    public static string SerializeToString<T>(T value) => JsonSerializer.Serialize(value, Info<T>());

    public static JsonElement ToElement<T>(T value) => JsonSerializer.SerializeToElement(value, Info<T>());

    /// <summary>Parses a payload; throws <see cref="PayloadException"/> with the JSON path on any problem.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> utf8, string where, JsonTypeInfo<T>? info = null)
    {
        if (utf8.IsEmpty)
        {
            throw new PayloadException($"{where}: the payload is empty; expected a JSON object ({typeof(T).Name}).");
        }
        try
        {
            return JsonSerializer.Deserialize(utf8, info ?? Info<T>())
                   ?? throw new PayloadException($"{where}: the payload is JSON null; expected a {typeof(T).Name} object.");
        }
        catch (JsonException ex)
        {
            var path = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "" : $" at {ex.Path}";
            throw new PayloadException($"{where}: invalid {typeof(T).Name}{path}: {Clip(ex.Message)}");
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or NotSupportedException or FormatException or OverflowException)
        {
            throw new PayloadException($"{where}: invalid {typeof(T).Name}: {Clip(ex.Message)}");
        }
    }

    /// <summary>
    /// Parses a payload and runs its own checks (<see cref="IValidatable"/>): what every receiver of an event or status
    /// calls. Throws <see cref="PayloadException"/> naming where, the type and every bad field.
    /// </summary>
    public static T DeserializeValid<T>(ReadOnlySpan<byte> utf8, string where) where T : IValidatable =>
        DeserializeChecked<T>(utf8, where);

    /// <inheritdoc cref="DeserializeValid{T}(ReadOnlySpan{byte}, string)"/>
    public static T DeserializeValid<T>(JsonElement element, string where) where T : IValidatable => DeserializeChecked<T>(element, where);

    /// <summary>
    /// Runs a payload's own checks (<see cref="IValidatable"/>; a type without checks passes): the one check every
    /// receiver and every sender of commands, events and statuses runs. Throws <see cref="PayloadException"/> (<see cref="PayloadException.InvalidFields"/>)
    /// ("{where}: invalid T: field ...") naming where, the type and every bad field.
    /// </summary>
    public static void ThrowIfInvalid<T>(T value, string where)
    {
        if (value is not IValidatable validatable)
        {
            return;
        }
        var problems = validatable.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new PayloadException($"{where}: invalid {typeof(T).Name}: {Clip(string.Join("; ", problems))}", invalidFields: true);
        }
    }

    /// <summary>Parses a payload and runs its checks when it has any: what the command path reads.</summary>
    public static T DeserializeChecked<T>(ReadOnlySpan<byte> utf8, string where, JsonTypeInfo<T>? info = null)
    {
        var value = Deserialize(utf8, where, info);
        ThrowIfInvalid(value, where);
        return value;
    }

    /// <inheritdoc cref="DeserializeChecked{T}(ReadOnlySpan{byte}, string, JsonTypeInfo{T}?)"/>
    public static T DeserializeChecked<T>(JsonElement element, string where)
    {
        var value = Deserialize<T>(element, where);
        ThrowIfInvalid(value, where);
        return value;
    }

    public static T Deserialize<T>(JsonElement element, string where) =>
        Deserialize<T>(JsonSerializer.SerializeToUtf8Bytes(element, SeccmJsonContext.Default.JsonElement), where);

    private static string Clip(string message) => message.Length <= 300 ? message : message[..300] + "...";
}

/// <summary>
/// A payload that cannot be used: not JSON, wrong shape, missing or invalid fields. <see cref="InvalidFields"/>: it
/// parsed but failed its own checks (<see cref="IValidatable"/>), a command answered <c>invalid_argument</c> rather
/// than <c>bad_payload</c>.
/// </summary>
public sealed class PayloadException(string message, bool invalidFields = false) : Exception(message)
{
    public bool InvalidFields { get; } = invalidFields;
}
