using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Glovebox;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Devices.Emulators.Glovebox;
using Seccm.Glovebox.Simulation;
using Seccm.Glovebox.Tests.Sensors;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.Storage;
using Seccm.TestSupport;

namespace Seccm.Glovebox.Tests;

/// <summary>The glovebox service end to end: embedded broker, the service, a client bus.</summary>
public sealed class GloveboxServiceTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private const string Instrument = "g1";
    private readonly ConcurrentQueue<GloveboxTelemetry> _telemetry = new();
    private readonly ConcurrentQueue<GloveboxAlarmEvent> _alarms = new();
    private readonly ConcurrentQueue<PumpStateResult> _pumpEvents = new();
    private readonly string _dataDir = Directory.CreateTempSubdirectory("seccm-glovebox-").FullName;
    private readonly ConcurrentQueue<string> _warnings = new();
    private IHost? _host;
    private MqttBus _client = null!;
    private int _port;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Starts the service; the simulated glovebox runs 600 times faster than real time so a leak takes seconds.</summary>
    private async Task StartAsync(Dictionary<string, string?>? extra = null, double speed = 600)
    {
        _host = BuildHost(extra, speed);
        await _host.StartAsync();
        await ConnectClientAsync();
        await _client.SubscribeAsync(GloveboxTopics.AtmosphereTopic(Instrument), Collect(_telemetry));
        await _client.SubscribeAsync(GloveboxTopics.AlarmTopic(Instrument), Collect(_alarms));
        await _client.SubscribeAsync(GloveboxTopics.PumpTopic(Instrument), Collect(_pumpEvents));
        await Eventually.TrueAsync(() => _telemetry.Any(t => t.SafeToScan), "telemetry that says safe to scan");
    }

    private async Task ConnectClientAsync()
    {
        _client = new MqttBus(ServiceNames.Cli, new SeccmOptions { Instrument = Instrument }, new MqttOptions { Host = "127.0.0.1", Port = _port },
            NullLogger.Instance, TimeProvider.System);
        await _client.StartAsync(CancellationToken.None);
        await _client.WaitConnectedAsync(Timeout, CancellationToken.None);
    }

    private IHost BuildHost(Dictionary<string, string?>? extra, double speed)
    {
        _port = FreePort.Next();
        var settings = new Dictionary<string, string?>
        {
            ["Instrument"] = Instrument,
            ["Mqtt:Host"] = "127.0.0.1",
            ["Mqtt:Port"] = _port.ToString(CultureInfo.InvariantCulture),
            ["Storage:Directory"] = Path.Combine(_dataDir, "ts"),
            ["Storage:BufferDirectory"] = Path.Combine(_dataDir, "buffer"),
            ["Glovebox:PollIntervalMs"] = "100",
            ["Glovebox:AlarmHoldSeconds"] = "0.3",
        };
        foreach (var (k, v) in extra ?? [])
        {
            settings[k] = v;
        }
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging(logging => logging.AddProvider(new CollectingLoggerProvider(_warnings)));
        builder.AddEmbeddedBroker();
        builder.AddGloveboxService(_ => new GloveboxSimulation(TimeProvider.System, new GloveboxSimulationOptions { SpeedFactor = speed }), null);
        return builder.Build();
    }

    private static Func<IncomingMessage, CancellationToken, Task> Collect<T>(ConcurrentQueue<T> queue) => (m, _) =>
    {
        queue.Enqueue(SeccmJson.Deserialize<T>(m.Payload.Span, m.Topic));
        return Task.CompletedTask;
    };

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _client.DisposeAsync();
            await _host.StopAsync();
            _host.Dispose();
        }
        Directory.Delete(_dataDir, recursive: true);
    }

    private Task<CommandReply> RequestAsync<T>(string verb, T command) => _client.RequestAsync(ServiceNames.Glovebox, verb, command, Timeout);

    [Fact]
    public async Task Telemetry_status_and_storage_show_a_healthy_glovebox()
    {
        await StartAsync(speed: 1);
        var t = _telemetry.Last();
        Assert.InRange(t.O2Ppm!.Value, 0.3, 3);
        Assert.InRange(t.DewPointC!.Value, -80, -71);
        Assert.InRange(t.H2oPpm!.Value, 0.3, 2.5);
        Assert.True(t.PumpOn);
        Assert.Equal((GloveboxAlarmLevels.Ok, GloveboxAlarmLevels.Ok), (t.O2Alarm, t.H2oAlarm));
        Assert.Contains(t.Sensors, s => s.Quantity == "o2" && s.Name == "simulated");

        var status = await RetainedStatusAsync();
        var details = SeccmJson.Deserialize<GloveboxStatusDetails>(status.Details!.Value, "status details");
        Assert.True(details.SafeToScan);
        Assert.Equal("normal", details.Scenario);

        var reply = await RequestAsync(GloveboxTopics.StatusVerb, new EmptyCommand());
        Assert.True(reply.Ok);
        Assert.True(_host!.Services.GetRequiredService<ITimeSeriesSink>().Status.PointsWritten > 0, "glovebox points go to the sink");
    }

    [Fact]
    public async Task A_leak_raises_alarms_refuses_pump_off_switches_the_pump_on_and_recovers()
    {
        await StartAsync();
        var off = await RequestAsync(GloveboxTopics.PumpVerb, new PumpCommand(false, "scan s1 imaging"));
        Assert.True(off.Ok, off.Error?.Message);
        await Eventually.TrueAsync(() => _pumpEvents.Any(p => !p.On), "pump off event");
        Assert.NotNull(_pumpEvents.Last(p => !p.On).AutoOnUtc);

        Assert.True((await RequestAsync(GloveboxTopics.SimulateVerb, new SimulateCommand("leak"))).Ok);
        await Eventually.TrueAsync(() => _alarms.Any(a => a.Quantity == "o2" && a.To == GloveboxAlarmLevels.Alarm), "O2 alarm event");
        Assert.False(_alarms.First(a => a.To == GloveboxAlarmLevels.Alarm).SafeToScan);
        await Eventually.TrueAsync(() => _pumpEvents.LastOrDefault() is { On: true, Reason: var r } && r.EndsWith("alarm", StringComparison.Ordinal),
            "pump back on because of the alarm");

        var refused = await RequestAsync(GloveboxTopics.PumpVerb, new PumpCommand(false, "scan s2"));
        Assert.Equal(ErrorCodes.Refused, refused.Error!.Code);
        Assert.Contains("alarm", refused.Error.Message, StringComparison.Ordinal);

        // 600x: the purifier's ~25 min recovery takes a few seconds.
        await Eventually.TrueAsync(() => _telemetry.LastOrDefault() is { SafeToScan: true, O2Alarm: GloveboxAlarmLevels.Ok }, "recovery", TimeSpan.FromSeconds(60));
    }

    [Theory]
    [InlineData("finished-completed", "scan ended")]
    [InlineData("finished-aborted", "scan aborted")]
    [InlineData("state-aborted", "scan aborted")]
    [InlineData("offline", "scan service offline")]
    public async Task The_pump_comes_back_when_the_scan_ends_aborts_or_goes_offline(string what, string reason)
    {
        await StartAsync(speed: 1);
        Assert.True((await RequestAsync(GloveboxTopics.PumpVerb, new PumpCommand(false, "scan s1 imaging"))).Ok);
        var now = DateTimeOffset.UtcNow;
        switch (what)
        {
            case "finished-completed":
                await _client.PublishAsync(Topic.Event(Instrument, ServiceNames.Scan, "finished"), new ScanFinishedEvent("s1", ScanState.Completed, 4, 4, now));
                break;
            case "finished-aborted":
                await _client.PublishAsync(Topic.Event(Instrument, ServiceNames.Scan, "finished"), new ScanFinishedEvent("s1", ScanState.Aborted, 2, 4, now));
                break;
            case "state-aborted":
                await _client.PublishAsync(Topic.Event(Instrument, ServiceNames.Scan, "state"), new ScanStateEvent("s1", ScanState.Aborted, "user", now));
                break;
            default:
                await _client.PublishAsync(Topic.Status(Instrument, ServiceNames.Scan),
                    new ServiceStatus(ServiceNames.Scan, Instrument, ServiceStatus.Offline, "1", now), retain: true);
                break;
        }
        await Eventually.TrueAsync(() => _pumpEvents.LastOrDefault() is { On: true } p && p.Reason == reason, $"pump on with reason '{reason}'");
    }

    [Fact]
    public async Task Malformed_or_out_of_range_scan_events_are_logged_with_what_and_where_and_leave_the_pump_alone()
    {
        await StartAsync(speed: 1);
        Assert.True((await RequestAsync(GloveboxTopics.PumpVerb, new PumpCommand(false, "scan s1 imaging"))).Ok);
        var now = DateTimeOffset.UtcNow;
        // Each would switch the pump on if it were valid (an aborted scan).
        await _client.PublishAsync(ScanTopics.FinishedTopic(Instrument), new ScanFinishedEvent("s1", ScanState.Aborted, 5, 4, now));
        await _client.PublishAsync(ScanTopics.StateTopic(Instrument), new ScanStateEvent("s 1", ScanState.Aborted, "user", now));
        await _client.PublishAsync(Topic.Status(Instrument, ServiceNames.Scan), new ServiceStatus("", Instrument, ServiceStatus.Offline, "1", now));

        await Eventually.TrueAsync(() => _warnings.Count(w => w.Contains("Ignored a message", StringComparison.Ordinal)) >= 3, "three ignored messages logged");
        Assert.Contains(_warnings, w => w.Contains(ScanTopics.FinishedTopic(Instrument), StringComparison.Ordinal) && w.Contains("pixelsDone 5", StringComparison.Ordinal));
        Assert.Contains(_warnings, w => w.Contains(ScanTopics.StateTopic(Instrument), StringComparison.Ordinal) && w.Contains("scanId 's 1'", StringComparison.Ordinal));
        Assert.Contains(_warnings, w => w.Contains(Topic.Status(Instrument, ServiceNames.Scan), StringComparison.Ordinal) && w.Contains("service must not be empty", StringComparison.Ordinal));
        // The first atmosphere read after the events were handled still has the pump off.
        var handled = DateTimeOffset.UtcNow;
        await Eventually.TrueAsync(() => _telemetry.Any(t => t.TimestampUtc > handled), "telemetry after the events");
        Assert.False(_telemetry.First(t => t.TimestampUtc > handled).PumpOn);
        Assert.DoesNotContain(_pumpEvents, p => p.On && p.Reason != "scan s1 imaging");
    }

    [Fact]
    public async Task Bad_commands_get_clear_errors_and_change_nothing()
    {
        await StartAsync(speed: 1);
        var reply = await RequestAsync(GloveboxTopics.SimulateVerb, new SimulateCommand("earthquake"));
        Assert.Equal(ErrorCodes.InvalidArgument, reply.Error!.Code);
        Assert.Contains("leak", reply.Error.Message, StringComparison.Ordinal);

        reply = await RequestAsync(GloveboxTopics.PumpVerb, new PumpCommand(false, " "));
        Assert.Equal(ErrorCodes.InvalidArgument, reply.Error!.Code);
        Assert.Contains("reason", reply.Error.Message, StringComparison.Ordinal);

        reply = await _client.RequestRawAsync(Topic.Command(Instrument, ServiceNames.Glovebox, GloveboxTopics.PumpVerb),
            Encoding.UTF8.GetBytes("{\"on\":\"maybe\",\"reason\":\"x\"}"), Timeout);
        Assert.Equal(ErrorCodes.BadPayload, reply.Error!.Code);
        Assert.Contains("on", reply.Error.Message, StringComparison.Ordinal);

        await Task.Delay(300);
        Assert.True(_telemetry.Last().PumpOn);
        Assert.Empty(_pumpEvents);
    }

    [Fact]
    public async Task Real_drivers_from_configuration_read_their_emulators_over_serial()
    {
        await using var o2 = await SerialPair.StartAsync(openHost: false);
        await using var h2o = await SerialPair.StartAsync(openHost: false);
        await using var rapidox = new RapidoxOxygenEmulator(o2.Device) { O2Ppm = 0.42 };
        await using var vaisala = new VaisalaDewPointEmulator(h2o.Device) { DewPointC = -77.5, H2oPpm = 0.8 };
        rapidox.Start();
        vaisala.Start();
        // The service opens the host ends itself, by path, as it would open /dev/ttyUSB0.

        await StartAsync(new Dictionary<string, string?>
        {
            ["Glovebox:Oxygen:0:Driver"] = "rapidox",
            ["Glovebox:Oxygen:0:Name"] = "rapidox-1",
            ["Glovebox:Oxygen:0:Port"] = o2.HostPort,
            ["Glovebox:Moisture:0:Driver"] = "vaisala",
            ["Glovebox:Moisture:0:Port"] = h2o.HostPort,
        }, speed: 1);

        var t = _telemetry.Last(t => t.O2Ppm is not null);
        Assert.Equal(0.42, t.O2Ppm!.Value, 6);
        Assert.Equal(-77.5, t.DewPointC!.Value, 6);
        Assert.Contains(t.Sensors, s => s.Name == "rapidox-1");

        rapidox.Faults.Silent = true;
        await Eventually.TrueAsync(() => _telemetry.LastOrDefault()?.Sensors.Any(s => s.Name == "rapidox-1" && s.Error is not null) == true,
            "the silent analyser reported in telemetry");
        Assert.Contains(o2.HostPort, _telemetry.Last().Sensors.First(s => s.Error is not null).Error!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_command_sent_once_as_soon_as_the_glovebox_is_online_is_answered_though_its_devices_open_later()
    {
        // The pump's relay board answers only when the test lets it: until then the service is still opening its devices.
        await using var relay = await SerialPair.StartAsync(openHost: false);
        await using var board = new RelayBoardEmulator(relay.Device);
        _host = BuildHost(new Dictionary<string, string?>
        {
            ["Glovebox:Pump:Driver"] = "relay-board",
            ["Glovebox:Pump:Port"] = relay.HostPort,
            ["Glovebox:Pump:Timeout"] = "00:05:00",
            ["Glovebox:Pump:Retries"] = "0",
        }, speed: 1);
        var starting = _host.StartAsync();
        await ConnectClientAsync();
        var online = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _client.SubscribeAsync(Topic.Status(Instrument, ServiceNames.Glovebox), (m, _) =>
        {
            if (SeccmJson.Deserialize<ServiceStatus>(m.Payload.Span, m.Topic).IsOnline)
            {
                online.TrySetResult();
            }
            return Task.CompletedTask;
        });
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _client.SubscribeAsync(Topic.Command(Instrument, ServiceNames.Glovebox, GloveboxTopics.PumpVerb), (_, _) =>
        {
            sent.TrySetResult();
            return Task.CompletedTask;
        });
        await online.Task.WaitAsync(Timeout);

        var reply = RequestAsync(GloveboxTopics.PumpVerb, new PumpCommand(true, "right after online"));
        // The broker has passed the command on (to this client too) before the relay board answers the service's first command.
        await sent.Task.WaitAsync(Timeout);
        board.Start();

        var answered = await reply;
        Assert.True(answered.Ok, answered.Error?.Message);
        Assert.True(board.IsOn(1));
        await starting.WaitAsync(Timeout);
    }

    private async Task<ServiceStatus> RetainedStatusAsync()
    {
        var statuses = new ConcurrentQueue<ServiceStatus>();
        await _client.SubscribeAsync(Topic.Status(Instrument, ServiceNames.Glovebox), Collect(statuses));
        await Eventually.TrueAsync(() => statuses.Any(s => s.Details is not null), "retained glovebox status with details");
        return statuses.Last(s => s.Details is not null);
    }
}
