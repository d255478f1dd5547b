using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Glovebox;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.Scan.Checkpoints;
using Seccm.Scan.Interlocks;
using Seccm.Scan.Orchestration;
using Seccm.TestSupport;

namespace Seccm.Scan.Tests.Orchestration;

/// <summary>
/// The pump reasons the scan builds from interlock texts reach the glovebox's own validation over MQTT: the longest
/// real device-fault texts (a PI controller on a by-id serial path that stops answering) must not leave the pump off.
/// </summary>
public sealed class PumpReasonContractTests : IDisposable
{
    private const string Instrument = "pump1";
    private readonly string _dir = Directory.CreateTempSubdirectory("seccm-scan-pump-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // What the stage's PI GCS driver says when its controller falls silent (seen in CI: 229 characters as a pump reason),
    // and the same on the longest usual serial path, a udev by-id link.
    public static TheoryData<string> RealDeviceFaults() => new()
    {
        "PI controller on '/tmp/seccm-socat-PDhIdk/ttyHost' did not answer 'POS? 1 2 3' (attempt 3 of 3): '/tmp/seccm-socat-PDhIdk/ttyHost' did not send a line within 1000 ms.",
        "PI controller on '/dev/serial/by-id/usb-Physik_Instrumente__PI__E-727_Digital_Multi-Channel_Piezo_Controller_0123456789-if00-port0' did not answer ERR? after '#24 (stop all)': '/dev/serial/by-id/usb-Physik_Instrumente__PI__E-727_Digital_Multi-Channel_Piezo_Controller_0123456789-if00-port0' did not send a line within 1000 ms.",
    };

    [Theory]
    [MemberData(nameof(RealDeviceFaults))]
    public async Task The_pump_reason_of_a_scan_paused_by_a_long_device_fault_is_accepted_by_the_glovebox(string fault)
    {
        // The interlock text as the scan builds it from the stage's retained status.
        var monitor = new InterlockMonitor();
        foreach (var service in new[] { ServiceNames.Stage, ServiceNames.Potentiostat, ServiceNames.Glovebox, ServiceNames.Diffusion })
        {
            monitor.Observe(service, new ServiceStatus(service, Instrument, ServiceStatus.Online, "test", DateTimeOffset.UnixEpoch));
        }
        monitor.Observe(ServiceNames.Stage, new ServiceStatus(ServiceNames.Stage, Instrument, ServiceStatus.Online, "test", DateTimeOffset.UnixEpoch,
            Details: JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["deviceFault"] = true, ["fault"] = fault })));
        var verdict = monitor.Check(new GloveboxLimits());
        Assert.False(verdict.Safe);

        // The runner pauses on it and asks for the pump; the reasons it builds are collected.
        var instrument = new RecordingInstrument();
        var interlocks = new SwitchableInterlocks();
        var events = new RecordingEvents();
        var runner = new ScanRunner(instrument, interlocks, events, new CheckpointStore(_dir), TimeProvider.System, NullLogger<ScanRunner>.Instance);
        instrument.BeforeMeasure = (index, _) =>
        {
            if (index == 0)
            {
                interlocks.Trip = verdict.Reason;
            }
            return Task.CompletedTask;
        };
        await runner.StartAsync(new Recipe("pump-reasons", new GridSpec(3, 1, 0.1),
            Technique: new TechniqueSpec(TechniqueKind.Hold, Hold: new HoldSpec(1.3, 0.01))), "scan-with-a-long-id-" + new string('x', 40), CancellationToken.None);
        await Eventually.TrueAsync(() => instrument.Pump.Any(p => p.On && p.Reason.Contains("paused", StringComparison.Ordinal)), "the pump asked on for the pause");
        interlocks.Trip = null;
        await runner.Loop!;
        var reasons = instrument.Pump.ToList();
        Assert.Contains(reasons, p => p.Reason.Length > PumpCommand.MaxReasonLength);

        // Each goes out as the scan sends it, to a receiver that validates as the glovebox does.
        await using var broker = await MosquittoServer.StartAsync();
        var mqtt = new MqttOptions { Host = "127.0.0.1", Port = broker.Port };
        await using var glovebox = new MqttBus(ServiceNames.Glovebox, new SeccmOptions { Instrument = Instrument }, mqtt, NullLogger.Instance, TimeProvider.System);
        var received = new ConcurrentQueue<PumpCommand>();
        await glovebox.MapCommandAsync<PumpCommand, PumpStateResult>(GloveboxTopics.PumpVerb, (command, _) =>
        {
            received.Enqueue(command);
            return Task.FromResult(new PumpStateResult(command.On, command.Reason, DateTimeOffset.UnixEpoch, null));
        });
        await using var scan = new MqttBus(ServiceNames.Scan, new SeccmOptions { Instrument = Instrument }, mqtt, NullLogger.Instance, TimeProvider.System);
        await glovebox.StartAsync(CancellationToken.None);
        await scan.StartAsync(CancellationToken.None);
        await glovebox.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
        await scan.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
        var sender = new MqttScanInstrument(scan, new SimulationClock(TimeProvider.System, 1), new ScanOptions());
        foreach (var (on, reason) in reasons)
        {
            await sender.SetPumpAsync(on, reason, CancellationToken.None);
        }

        Assert.Equal(reasons.Count, received.Count);
        Assert.All(received, c => Assert.Empty(c.Validate()));
        var paused = received.Single(c => c.Reason.Contains("paused", StringComparison.Ordinal));
        Assert.True(paused.On);
        Assert.StartsWith(reasons.Single(r => r.Reason.Contains("paused", StringComparison.Ordinal)).Reason[..150], paused.Reason, StringComparison.Ordinal);
    }
}
