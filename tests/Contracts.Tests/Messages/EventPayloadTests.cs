using System.Text;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Glovebox;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Stage;
using Seccm.Contracts.Topics;

namespace Seccm.Contracts.Tests.Messages;

/// <summary>Each event and status payload: a valid one passes, each bad field is refused by name.</summary>
public sealed class EventPayloadTests
{
    private static readonly DateTimeOffset T = DateTimeOffset.UnixEpoch;

    private static readonly ScanStartedEvent Started = new("s1", new Recipe("r", new GridSpec(2, 1, 1)), 2, 1,
        [new PixelSpec(0, 0, 0, 0, 0), new PixelSpec(1, 1, 0, 1, 0)], T);

    private static readonly PixelDoneEvent Pixel = new("s1", 3, 1, 2, 1.5, 2.5, true, -0.2, T);

    private static readonly CurveChunk Chunk = new("s1", 3, "cv", 0, 2, 0.1, 100, 0, 2, false, 0, T, [0, 0.1], [0.1, 0.2], [1e-9, double.NaN]);

    private static readonly GloveboxStatusDetails Box = new(true, GloveboxAlarmLevels.Ok, GloveboxAlarmLevels.Warning, true, "scan s1", null);

    private static readonly GloveboxTelemetry Atmosphere = new(T, 0.4, 0.3, -70, 2, true, "r", GloveboxAlarmLevels.Ok, GloveboxAlarmLevels.Ok, true,
        [new GloveboxSensorReading("o2", "o2", 0.4, "ppm")]);

    private static readonly RawCurveStorage Storage = new("/data/raw", 3, 1000, 5_000_000, false, 0, 0, T);

    private static readonly PixelResultMessage Result = new("s1", 3, 1, 2, 1.5, 2.5, "cv", true, -0.2, 1e-10, 0.99, null, null, null, null, "ok", 2,
        [0.1, 0.2], [new CvPeakResult(0, 0.1, 1e-9, 1.6, null, null, null, true)], "w1", T);

    public static TheoryData<IValidatable> Valid() =>
    [
        Started, Pixel, new ScanFinishedEvent("s1", ScanState.Completed, 2, 2, T), new ScanStateEvent("s1", ScanState.Paused, "glovebox", T),
        new ScanProgress("s1", "r", ScanState.Running, 1, 2, 0, 3, null, T, T, CurrentPixel: 1),
        new ScanPixelsResult("s1", ScanState.Running, 2, [new RecordedPixel(0, 0, 0, 0, 0, true, -0.1)]),
        Chunk, new ContactEvent(T, 2e-12, 1e-12, 0.1, 0.5, -0.3),
        new TechniqueFinishedEvent(T, "cv", TechniqueOutcomes.Completed, "s1", 3, 200, 2), new CurrentTelemetry(T, "idle", false, null, null, null, 0),
        new StagePositionTelemetry(T, 1, 2, 3, true, false, false), new ApproachStartedEvent(T, 0, -3, 2, null),
        new ApproachStoppedEvent(T, ApproachStopReasons.Contact, -1, 1),
        Box, Atmosphere, new GloveboxAlarmEvent(T, "o2", GloveboxAlarmLevels.Ok, GloveboxAlarmLevels.Alarm, 12, "ppm", false),
        new PumpStateResult(true, "scan", T, null),
        Result, Result with { Method = "bv_ir_semi_integral_fit", Alpha = 0.38, UncompensatedResistanceOhm = 120 }, new MapUpdate("s1", 1, 4, 2, 2, 0, 0, 0, 1e-10, null, null, null, T),
        new DiffusionExportedEvent("s1", "/maps/s1", ["d.csv"], new ExportSummary("cv", 1, 1, 1, 1, 1, null, null, null, 0, null, [], 0), T),
        new ServiceStatus("stage", "i1", ServiceStatus.Online, "1", T), new DeviceStatusDetails(true, "no answer"),
        new PotentiostatStatusDetails(Storage), new PotentiostatStatusDetails(Storage with { FreeBytes = null }),
        new CommandReply(true), new CommandReply(false, null, new CommandError(ErrorCodes.Busy, "busy")),
    ];

    [Theory]
    [MemberData(nameof(Valid))]
    public void A_valid_payload_passes(IValidatable payload) => Assert.Empty(payload.Validate());

    public static TheoryData<IValidatable, string> Bad() => new()
    {
        { Started with { ScanId = "a b" }, "scanId" },
        { Result with { UncompensatedResistanceOhm = -5 }, "uncompensatedResistanceOhm" },
        { Result with { UncompensatedResistanceOhm = double.NaN }, "uncompensatedResistanceOhm" },
        { Result with { Alpha = double.PositiveInfinity }, "alpha" },
        { Started with { Nx = 0 }, "nx" },
        { Started with { Ny = 100_001 }, "ny" },
        { Started with { Pixels = [new PixelSpec(0, 2, 0, 0, 0)] }, "pixels[0]: ix" },
        { Started with { Pixels = [new PixelSpec(0, 0, 1, 0, 0)] }, "pixels[0]: iy" },
        { Started with { Pixels = [new PixelSpec(-1, 0, 0, 0, 0)] }, "pixels[0]: index" },
        { Started with { Pixels = [new PixelSpec(0, 0, 0, double.NaN, 0)] }, "pixels[0]: xUm" },
        { Pixel with { ScanId = "" }, "scanId" },
        { Pixel with { Index = -1 }, "index" },
        { Pixel with { Ix = 100_000 }, "ix" },
        { Pixel with { Iy = -1 }, "iy" },
        { Pixel with { XUm = double.PositiveInfinity }, "xUm" },
        { Pixel with { YUm = double.NaN }, "yUm" },
        { Pixel with { ContactZUm = double.NaN }, "contactZUm" },
        { Pixel with { Take = -1 }, "take" },
        { new ScanFinishedEvent("s1", ScanState.Completed, 3, 2, T), "pixelsDone" },
        { new ScanFinishedEvent("s1", (ScanState)42, 2, 2, T), "state" },
        { new ScanStateEvent("s/1", ScanState.Paused, "x", T), "scanId" },
        { new ScanProgress("s1", "r", ScanState.Running, 1, 2, 0, -3, null, T, T), "etaS" },
        { new ScanPixelsResult("s1", ScanState.Running, 2, [new RecordedPixel(0, -1, 0, 0, 0, true, null)]), "pixels[0]: ix" },
        { Chunk with { ScanId = "#" }, "scanId" },
        { Chunk with { Pixel = -2 }, "pixel" },
        { Chunk with { Technique = "" }, "technique" },
        { Chunk with { RateIndex = 2 }, "rateIndex" },
        { Chunk with { RateCount = 0, RateIndex = 0 }, "rateCount" },
        { Chunk with { ScanRateVPerS = -0.1 }, "scanRateVPerS" },
        { Chunk with { ChunkIndex = 2 }, "chunkIndex" },
        { Chunk with { FirstSampleIndex = -1 }, "firstSampleIndex" },
        { Chunk with { CurrentA = [1e-9] }, "timeS, potentialV and currentA" },
        { Chunk with { TimeS = [0, double.NaN] }, "timeS" },
        { Chunk with { Take = -1 }, "take" },
        { new ContactEvent(T, double.NaN, 1e-12, 0.1, 0.5), "currentA" },
        { new ContactEvent(T, 2e-12, 0, 0.1, 0.5), "thresholdA" },
        { new ContactEvent(T, 2e-12, 1e-12, 0.1, 0.5, double.NegativeInfinity), "pipetteZUm" },
        { new TechniqueFinishedEvent(T, "cv", "done", "s1", 3, 200, 2), "outcome" },
        { new TechniqueFinishedEvent(T, "cv", TechniqueOutcomes.Completed, "s 1", 3, 200, 2), "scanId" },
        { new TechniqueFinishedEvent(T, "cv", TechniqueOutcomes.Completed, "s1", 3, -1, 2), "samples" },
        { new StagePositionTelemetry(T, 1, 2, double.NaN, true, false, false), "zUm" },
        { new ApproachStoppedEvent(T, "", -1, 1), "reason" },
        { Box with { O2Alarm = "red" }, "o2Alarm" },
        { Box with { H2oAlarm = "" }, "h2oAlarm" },
        { Box with { PumpReason = new string('x', Problems.MaxTextLength + 1) }, "pumpReason" },
        { Atmosphere with { O2Ppm = -1 }, "o2Ppm" },
        { Atmosphere with { H2oPpm = double.NaN }, "h2oPpm" },
        { Atmosphere with { H2oAlarm = "bad" }, "h2oAlarm" },
        { Atmosphere with { Sensors = [new GloveboxSensorReading("", "o2", 1, "ppm")] }, "sensors[0]: name" },
        { new GloveboxAlarmEvent(T, "o2", "ok", "panic", 12, "ppm", false), "to" },
        { Result with { ScanId = "a/b" }, "scanId" },
        { Result with { Ix = -1 }, "ix" },
        { Result with { DCm2PerS = double.NaN }, "dCm2PerS" },
        { Result with { RatesUsedVPerS = [double.NaN] }, "ratesUsedVPerS[0]" },
        { new MapUpdate("s1", 1, 4, 2, 2, 0, 0, -5, 1e-10, null, null, null, T), "iy" },
        { new ServiceStatus("", "i1", ServiceStatus.Online, "1", T), "service" },
        { new DeviceStatusDetails(true, " "), "fault" },
        { new PotentiostatStatusDetails(null!), "rawCurves" },
        { new PotentiostatStatusDetails(Storage with { Directory = "" }), "rawCurves.directory" },
        { new PotentiostatStatusDetails(Storage with { Files = -1 }), "rawCurves.files" },
        { new PotentiostatStatusDetails(Storage with { FreeBytes = -1 }), "rawCurves.freeBytes" },
        { new PotentiostatStatusDetails(Storage with { BytesReclaimed = -1 }), "rawCurves.bytesReclaimed" },
        { new CommandReply(false), "error" },
        { new CommandReply(true, null, new CommandError("x", "y")), "an ok reply" },
        { new CommandReply(false, null, new CommandError("", "y")), "error.code" },
    };

    [Theory]
    [MemberData(nameof(Bad))]
    public void A_bad_field_is_refused_by_name(IValidatable payload, string field)
    {
        var problems = payload.Validate().ToList();
        Assert.NotEmpty(problems);
        Assert.Contains(problems, p => p.StartsWith(field, StringComparison.Ordinal) || p.Contains($"({field})", StringComparison.Ordinal));
    }

    [Fact]
    public void A_receiver_gets_a_payload_exception_naming_where_the_type_and_the_field()
    {
        var json = SeccmJson.Serialize(Pixel with { Ix = -1 });
        var ex = Assert.Throws<PayloadException>(() => SeccmJson.DeserializeValid<PixelDoneEvent>(json, "seccm/i1/scan/event/pixel"));
        Assert.Contains("seccm/i1/scan/event/pixel", ex.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(PixelDoneEvent), ex.Message, StringComparison.Ordinal);
        Assert.Contains("ix must be 0-99999, got -1", ex.Message, StringComparison.Ordinal);

        var good = SeccmJson.DeserializeValid<PixelDoneEvent>(SeccmJson.Serialize(Pixel), "t");
        Assert.Equal(Pixel, good);
        Assert.Throws<PayloadException>(() => SeccmJson.DeserializeValid<GloveboxStatusDetails>(Encoding.UTF8.GetBytes("""{"safeToScan": true}"""), "t"));
    }
}

public sealed class TopicContractsTests
{
    [Fact]
    public void Each_topic_is_read_by_its_contract_and_a_topic_without_one_is_named()
    {
        var chunk = new CurveChunk("s1", 0, "cv", 0, 1, 0.1, 10, 0, 1, true, 0, DateTimeOffset.UnixEpoch, [0], [0.1], [1e-9]);
        Assert.IsType<CurveChunk>(TopicContracts.Read(PotentiostatTopics.CvDataTopic("i1", "s1"), SeccmJson.Serialize(chunk)));
        var bad = Assert.Throws<PayloadException>(() =>
            TopicContracts.Read(PotentiostatTopics.CvDataTopic("i1", "s1"), SeccmJson.Serialize(chunk with { RateIndex = 1 })));
        Assert.Contains("rateIndex", bad.Message, StringComparison.Ordinal);

        // A status is read with its details: the glovebox's as GloveboxStatusDetails.
        var status = new ServiceStatus(ServiceNames.Glovebox, "i1", ServiceStatus.Online, "1", DateTimeOffset.UnixEpoch,
            Details: SeccmJson.ToElement(new GloveboxStatusDetails(true, "ok", "bad", true, "", null)));
        var details = Assert.Throws<PayloadException>(() => TopicContracts.Read(Topic.Status("i1", ServiceNames.Glovebox), SeccmJson.Serialize(status)));
        Assert.Contains("h2oAlarm 'bad'", details.Message, StringComparison.Ordinal);
        // The potentiostat's as PotentiostatStatusDetails (its raw-curve storage).
        var potentiostat = status with { Service = ServiceNames.Potentiostat, Details = SeccmJson.ToElement(new PotentiostatStatusDetails(
            new RawCurveStorage("/d", -2, 0, null, false, 0, 0, DateTimeOffset.UnixEpoch))) };
        var storage = Assert.Throws<PayloadException>(() => TopicContracts.Read(Topic.Status("i1", ServiceNames.Potentiostat), SeccmJson.Serialize(potentiostat)));
        Assert.Contains("seccm/i1/potentiostat/status details: invalid PotentiostatStatusDetails: rawCurves.files must be >= 0, got -2", storage.Message, StringComparison.Ordinal);

        Assert.Null(TopicContracts.Read(Topic.Command("i1", ServiceNames.Stage, "move"), "{}"u8.ToArray()));
        Assert.Null(TopicContracts.Read(ScanTopics.StartedTopic("i1"), ReadOnlyMemory<byte>.Empty));
        var unknown = Assert.Throws<PayloadException>(() => TopicContracts.Read(Topic.Event("i1", ServiceNames.Scan, "exploded"), "{}"u8.ToArray()));
        Assert.Contains("no payload contract for scan event 'exploded'", unknown.Message, StringComparison.Ordinal);
    }
}
