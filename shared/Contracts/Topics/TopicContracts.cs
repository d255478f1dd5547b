using System.Text.Json;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Glovebox;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Stage;

namespace Seccm.Contracts.Topics;

/// <summary>
/// Which payload every status, telemetry, event, data and result topic carries, read and checked by its contract.
/// Commands and replies are checked on the command path (<see cref="IValidatable"/> commands), not here.
/// </summary>
public static class TopicContracts
{
    private delegate IValidatable Reader(ReadOnlyMemory<byte> payload, string where);

    private static readonly Dictionary<(string Service, TopicKind Kind, string Name), Reader> Readers = new()
    {
        [(ServiceNames.Scan, TopicKind.Telemetry, ScanTopics.Progress)] = Read<ScanProgress>,
        [(ServiceNames.Scan, TopicKind.Event, ScanTopics.Started)] = Read<ScanStartedEvent>,
        [(ServiceNames.Scan, TopicKind.Event, ScanTopics.Pixel)] = Read<PixelDoneEvent>,
        [(ServiceNames.Scan, TopicKind.Event, ScanTopics.State)] = Read<ScanStateEvent>,
        [(ServiceNames.Scan, TopicKind.Event, ScanTopics.Finished)] = Read<ScanFinishedEvent>,
        [(ServiceNames.Stage, TopicKind.Telemetry, StageTopics.Position)] = Read<StagePositionTelemetry>,
        [(ServiceNames.Stage, TopicKind.Event, StageTopics.ApproachStarted)] = Read<ApproachStartedEvent>,
        [(ServiceNames.Stage, TopicKind.Event, StageTopics.ApproachStopped)] = Read<ApproachStoppedEvent>,
        [(ServiceNames.Potentiostat, TopicKind.Telemetry, PotentiostatTopics.Current)] = Read<CurrentTelemetry>,
        [(ServiceNames.Potentiostat, TopicKind.Event, PotentiostatTopics.Contact)] = Read<ContactEvent>,
        [(ServiceNames.Potentiostat, TopicKind.Event, PotentiostatTopics.TechniqueFinished)] = Read<TechniqueFinishedEvent>,
        [(ServiceNames.Potentiostat, TopicKind.Data, PotentiostatTopics.CvData)] = Read<CurveChunk>,
        [(ServiceNames.Potentiostat, TopicKind.Data, PotentiostatTopics.HoldData)] = Read<CurveChunk>,
        [(ServiceNames.Potentiostat, TopicKind.Data, PotentiostatTopics.ChargeDischargeData)] = Read<CurveChunk>,
        [(ServiceNames.Glovebox, TopicKind.Telemetry, GloveboxTopics.Atmosphere)] = Read<GloveboxTelemetry>,
        [(ServiceNames.Glovebox, TopicKind.Event, GloveboxTopics.Alarm)] = Read<GloveboxAlarmEvent>,
        [(ServiceNames.Glovebox, TopicKind.Event, GloveboxTopics.Pump)] = Read<PumpStateResult>,
        [(ServiceNames.Diffusion, TopicKind.Result, DiffusionTopics.PixelResult)] = Read<PixelResultMessage>,
        [(ServiceNames.Diffusion, TopicKind.Result, DiffusionTopics.Map)] = Read<MapUpdate>,
        [(ServiceNames.Diffusion, TopicKind.Event, DiffusionTopics.Exported)] = Read<DiffusionExportedEvent>,
    };

    /// <summary>
    /// Reads a message by the contract of its topic and checks it; a status is read with its <c>details</c>
    /// (<see cref="GloveboxStatusDetails"/> for the glovebox, <see cref="DeviceStatusDetails"/> for the others). Returns
    /// null for a command or reply topic and for an empty payload (a retained message being cleared); throws
    /// <see cref="PayloadException"/> naming the topic and field for a bad payload or a topic without a contract.
    /// </summary>
    public static IValidatable? Read(string topic, ReadOnlyMemory<byte> payload)
    {
        if (Topic.Parse(topic) is not { } parsed)
        {
            throw new PayloadException($"{topic}: not a topic of the seccm tree");
        }
        if (parsed.Kind is TopicKind.Cmd or TopicKind.Reply || payload.IsEmpty)
        {
            return null;
        }
        if (parsed.Kind == TopicKind.Status)
        {
            var status = SeccmJson.DeserializeValid<ServiceStatus>(payload.Span, topic);
            if (status.Details is { ValueKind: JsonValueKind.Object } details)
            {
                ReadDetails(parsed.Service, details, $"{topic} details");
            }
            return status;
        }
        if (parsed.Kind == TopicKind.Telemetry && parsed.Rest is [QueueTelemetry.Name])
        {
            return SeccmJson.DeserializeValid<QueueTelemetry>(payload.Span, topic);
        }
        // event/{name}, telemetry/{name}; data/{scanId}/{name}, result/{scanId}/{name}/...
        var nameAt = parsed.Kind is TopicKind.Data or TopicKind.Result ? 1 : 0;
        var name = parsed.Rest.Count > nameAt ? parsed.Rest[nameAt] : "";
        return Readers.TryGetValue((parsed.Service, parsed.Kind, name), out var read)
            ? read(payload, topic)
            : throw new PayloadException($"{topic}: no payload contract for {parsed.Service} {Topic.KindSegment(parsed.Kind)} '{name}'");
    }

    /// <summary>
    /// Checks the <c>details</c> of a service's status: the glovebox's <see cref="GloveboxStatusDetails"/>, the device part
    /// (<see cref="DeviceStatusDetails"/>) of the others, and the potentiostat's raw-curve storage
    /// (<see cref="PotentiostatStatusDetails"/>). Throws <see cref="PayloadException"/> naming where and the field.
    /// </summary>
    public static void ReadDetails(string service, JsonElement details, string where)
    {
        if (service == ServiceNames.Glovebox)
        {
            _ = SeccmJson.DeserializeValid<GloveboxStatusDetails>(details, where);
            return;
        }
        SeccmJson.DeserializeValid<DeviceStatusDetails>(details, where);
        if (service == ServiceNames.Potentiostat)
        {
            _ = SeccmJson.DeserializeValid<PotentiostatStatusDetails>(details, where);
        }
    }

    private static IValidatable Read<T>(ReadOnlyMemory<byte> payload, string where) where T : IValidatable =>
        SeccmJson.DeserializeValid<T>(payload.Span, where);
}
