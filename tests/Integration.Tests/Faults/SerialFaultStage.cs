using System.Collections.Concurrent;
using System.Text.Json;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Devices.Emulators.PiGcs;
using Seccm.Devices.Serial;
using Seccm.TestSupport;

namespace Seccm.Integration.Tests.Faults;

/// <summary>
/// The stage of a <see cref="ScanRig"/> as a real serial device: the stage service runs its PI GCS driver on one end of
/// a socat pair and the PI controller emulator answers on the other end, in the test process, where the test can make
/// it fall silent or talk garbage. The emulator's Z range is the simulated world's (sample surface at Z = 0, as the
/// simulated stage's coarse Z puts it), so the simulated potentiostat, which follows the stage's position telemetry, or
/// the EmStat emulator, which reads this emulator's position (<see cref="SerialFaultPotentiostat"/>), sees the meniscus
/// touch where the simulated stage would.
/// </summary>
internal sealed class SerialFaultStage : IAsyncDisposable
{
    private readonly SocatPair _pair;

    private SerialFaultStage(SocatPair pair, PiGcsEmulator emulator)
    {
        _pair = pair;
        Emulator = emulator;
    }

    public PiGcsEmulator Emulator { get; }

    /// <summary>Every (deviceFault, fault) the stage service published in its retained status, in order.</summary>
    public ConcurrentQueue<(bool Fault, string? Message)> FaultReports { get; } = new();

    public bool? DeviceFault => FaultReports.IsEmpty ? null : FaultReports.Last().Fault;

    public static async Task<SerialFaultStage> StartAsync(ScanRig rig)
    {
        var pair = await SocatPair.StartAsync();
        var emulator = new PiGcsEmulator(StreamSerialLine.OpenPort(pair.DevicePort, 115200), TimeProvider.System, new PiGcsEmulatorOptions
        {
            Axes =
            [
                new("1", 0, 100, 50),
                new("2", 0, 100, 50),
                new("3", -20, 40, 40),
            ],
        }).Start();
        var stage = new SerialFaultStage(pair, emulator);
        await rig.Watcher.SubscribeAsync(Topic.Status(rig.Instrument, ServiceNames.Stage), (m, _) =>
        {
            var status = SeccmJson.Deserialize<ServiceStatus>(m.Payload.Span, m.Topic);
            if (status.IsOnline && status.Details is { ValueKind: JsonValueKind.Object } details
                && details.TryGetProperty("deviceFault", out var fault) && fault.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                stage.FaultReports.Enqueue((fault.GetBoolean(),
                    details.TryGetProperty("fault", out var message) && message.ValueKind == JsonValueKind.String ? message.GetString() : null));
            }
            return Task.CompletedTask;
        });
        return stage;
    }

    /// <summary>The stage service's settings for the real driver on the host end of the pair.</summary>
    public Dictionary<string, string> StageEnvironment => new()
    {
        ["SECCM__STAGE__DRIVER"] = "pi-gcs",
        ["SECCM__STAGE__PORT"] = _pair.HostPort,
        ["SECCM__STAGE__BAUDRATE"] = "115200",
    };

    public async ValueTask DisposeAsync()
    {
        await Emulator.DisposeAsync();
        _pair.Dispose();
    }
}
