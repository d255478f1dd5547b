using System.Text.Json;
using System.Text.Json.Serialization;
using Seccm.Contracts.Scan;

namespace Seccm.Scan.Checkpoints;

/// <summary>Everything needed to continue a scan after a crash: the recipe and which pixels are finished.</summary>
internal sealed record ScanCheckpoint(
    string ScanId,
    Recipe Recipe,
    ScanState State,
    DateTimeOffset StartedUtc,
    IReadOnlyList<PixelRecord> Done,
    string? PauseReason = null,
    bool PumpTurnedOffByScan = false);

/// <summary>A finished pixel: measured (with its contact height) or recorded as no contact.</summary>
internal sealed record PixelRecord(int Index, bool Contact, double? ContactZUm, string? Skipped = null, int Take = 0);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, UseStringEnumConverter = true,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(ScanCheckpoint))]
internal sealed partial class CheckpointJson : JsonSerializerContext;
