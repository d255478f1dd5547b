using System.Text.Json;
using System.Text.Json.Serialization;
using Seccm.Contracts.Messages;

namespace Seccm.Contracts.Serialization;

/// <summary>
/// The source-generated JSON context for every payload. Each feature adds its records with
/// <c>[JsonSerializable]</c> on its own <c>partial</c> declaration of this class, next to the records.
/// Missing required constructor parameters and nulls in non-nullable members are errors, not defaults.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    MaxDepth = 32)]
[JsonSerializable(typeof(CommandReply))]
[JsonSerializable(typeof(CommandError))]
[JsonSerializable(typeof(ServiceStatus))]
[JsonSerializable(typeof(PingCommand))]
[JsonSerializable(typeof(PingResult))]
[JsonSerializable(typeof(EmptyCommand))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class SeccmJsonContext : JsonSerializerContext;
