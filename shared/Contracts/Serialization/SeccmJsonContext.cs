using System.Text.Json;
using System.Text.Json.Serialization;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Scan;

namespace Seccm.Contracts.Serialization;

/// <summary>
/// The source-generated JSON context for every payload: add one <c>[JsonSerializable]</c> line below for each
/// new payload record (the generator does not accept the attributes spread over several partial declarations).
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
[JsonSerializable(typeof(DeviceStatusDetails))]
[JsonSerializable(typeof(PingCommand))]
[JsonSerializable(typeof(PingResult))]
[JsonSerializable(typeof(EmptyCommand))]
[JsonSerializable(typeof(QueueTelemetry))]
[JsonSerializable(typeof(JsonElement))]
// scan
[JsonSerializable(typeof(Recipe))]
[JsonSerializable(typeof(StartScanCommand))]
[JsonSerializable(typeof(ScanStatusResult))]
[JsonSerializable(typeof(ScanProgress))]
[JsonSerializable(typeof(ScanStartedEvent))]
[JsonSerializable(typeof(PixelDoneEvent))]
[JsonSerializable(typeof(ScanFinishedEvent))]
[JsonSerializable(typeof(ScanStateEvent))]
[JsonSerializable(typeof(ScanPixelsCommand))]
[JsonSerializable(typeof(ScanPixelsResult))]
// Stage: one attribute list for the whole context, because the JSON source generator cannot combine [JsonSerializable]
// lists from several partial declarations (it emits each type twice and fails).
[JsonSerializable(typeof(Seccm.Contracts.Stage.MoveCommand))]
[JsonSerializable(typeof(Seccm.Contracts.Stage.RetractCommand))]
[JsonSerializable(typeof(Seccm.Contracts.Stage.ApproachCommand))]
[JsonSerializable(typeof(Seccm.Contracts.Stage.StagePositionResult))]
[JsonSerializable(typeof(Seccm.Contracts.Stage.StagePositionTelemetry))]
[JsonSerializable(typeof(Seccm.Contracts.Stage.ApproachStartedEvent))]
[JsonSerializable(typeof(Seccm.Contracts.Stage.ApproachStoppedEvent))]
// glovebox
[JsonSerializable(typeof(Seccm.Contracts.Glovebox.PumpCommand))]
[JsonSerializable(typeof(Seccm.Contracts.Glovebox.PumpStateResult))]
[JsonSerializable(typeof(Seccm.Contracts.Glovebox.SimulateCommand))]
[JsonSerializable(typeof(Seccm.Contracts.Glovebox.SimulateResult))]
[JsonSerializable(typeof(Seccm.Contracts.Glovebox.GloveboxTelemetry))]
[JsonSerializable(typeof(Seccm.Contracts.Glovebox.GloveboxAlarmEvent))]
[JsonSerializable(typeof(Seccm.Contracts.Glovebox.GloveboxStatusDetails))]
// potentiostat
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.CvCommand))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.HoldCommand))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.ChargeDischargeCommand))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.CellCommand))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.CellResult))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.AbortResult))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.CurveChunk))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.ContactEvent))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.TechniqueFinishedEvent))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.HoldStartedResult))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.ContactCheckCommand))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.ContactCheckResult))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.CurrentTelemetry))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.ReplayCommand))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.ReplayResult))]
[JsonSerializable(typeof(Seccm.Contracts.Potentiostat.PotentiostatStatusDetails))]
// diffusion
[JsonSerializable(typeof(Seccm.Contracts.Diffusion.PixelResultMessage))]
[JsonSerializable(typeof(Seccm.Contracts.Diffusion.MapUpdate))]
[JsonSerializable(typeof(Seccm.Contracts.Diffusion.ExportCommand))]
[JsonSerializable(typeof(Seccm.Contracts.Diffusion.DiffusionExportedEvent))]
public sealed partial class SeccmJsonContext : JsonSerializerContext;
