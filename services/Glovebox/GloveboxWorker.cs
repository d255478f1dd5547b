using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;
using Seccm.Contracts.Glovebox;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Devices;
using Seccm.Devices.Serial;
using Seccm.Glovebox.Alarms;
using Seccm.Glovebox.Pump;
using Seccm.Glovebox.Sensors;
using Seccm.Glovebox.Simulation;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Storage;

namespace Seccm.Glovebox;

/// <summary>
/// The glovebox service: polls every O2 and H2O sensor, keeps the alarm states and safeToScan, owns the circulation
/// pump (off only on request, back on at scan end/abort/scan offline/alarm/max off time), publishes telemetry every
/// poll, events on changes, the retained status, and writes the time series.
/// </summary>
internal sealed partial class GloveboxWorker(
    IMessageBus bus,
    GloveboxOptions options,
    GloveboxSimulation simulation,
    TimeProvider time,
    ITimeSeriesSink? sink,
    ILogger<GloveboxWorker> logger,
    Func<string, SerialLineSettings, ISerialLine>? openPort = null) : BackgroundService
{
    private readonly Lock _gate = new();
    private readonly DeviceGate _ready = new();
    private DeviceFactory _factory = null!;
    private List<IOxygenSensor> _oxygen = [];
    private List<IMoistureSensor> _moisture = [];
    private IPump _pump = null!;
    private PumpController _pumpController = null!;
    private GloveboxAlarms _alarms = null!;
    private GloveboxTelemetry? _latest;
    private GloveboxStatusDetails? _publishedDetails;

    /// <summary>Maps the commands before the host has started: the bus announces the service online only after them.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Commands are subscribed before the devices are open so that none sent right after our "online" status is lost;
        // they wait for the devices (or get their start-up error).
        await bus.MapCommandAsync<PumpCommand, PumpStateResult>(GloveboxTopics.PumpVerb, _ready.Guard<PumpCommand, PumpStateResult>(PumpAsync))
            .ConfigureAwait(false);
        await bus.MapCommandAsync<SimulateCommand, SimulateResult>(GloveboxTopics.SimulateVerb, _ready.Guard<SimulateCommand, SimulateResult>(SimulateAsync))
            .ConfigureAwait(false);
        await bus.MapCommandAsync<EmptyCommand, GloveboxTelemetry>(GloveboxTopics.StatusVerb, _ready.Guard<EmptyCommand, GloveboxTelemetry>(StatusAsync))
            .ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _factory = new DeviceFactory(simulation, time, openPort);
        try
        {
            _oxygen = options.OxygenOrDefault.Select((o, i) => _factory.CreateOxygenSensor(o, $"{GloveboxOptions.Section}:Oxygen:{i}")).ToList();
            _moisture = options.MoistureOrDefault.Select((o, i) => _factory.CreateMoistureSensor(o, $"{GloveboxOptions.Section}:Moisture:{i}")).ToList();
            _pump = _factory.CreatePump(options.Pump, $"{GloveboxOptions.Section}:Pump");
        }
        catch (Exception ex) when (ex is DeviceException or ArgumentException)
        {
            LogDevicesFailed(logger, ex.Message);
            await _ready.FailAsync(_factory, "the glovebox devices", ex.Message).ConfigureAwait(false);
            throw;
        }
        _alarms = new GloveboxAlarms(options.O2Thresholds, options.DewPointThresholds, time);
        _pumpController = new PumpController(_pump, new PumpControlOptions { MaxOffTime = TimeSpan.FromMinutes(options.PumpMaxOffMinutes) }, time);
        _pumpController.Changed += state => _ = OnPumpChangedAsync(state);
        try
        {
            await _pumpController.StartAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (DeviceException ex)
        {
            // Monitoring O2 and H2O matters more than the relay: keep running and say so in the logs and telemetry.
            LogPumpFailed(logger, ex.Message);
        }
        LogStarted(logger, string.Join(", ", _oxygen.Select(s => s.Name)), string.Join(", ", _moisture.Select(s => s.Name)), _pump.Name);
        _ready.Open();

        await bus.SubscribeAsync(Topic.Status(bus.Instrument, ServiceNames.Scan), OnScanStatusAsync).ConfigureAwait(false);
        await bus.SubscribeAsync(ScanTopics.FinishedTopic(bus.Instrument), OnScanFinishedAsync).ConfigureAwait(false);
        await bus.SubscribeAsync(ScanTopics.StateTopic(bus.Instrument), OnScanStateAsync).ConfigureAwait(false);

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await PollAsync(stoppingToken).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromMilliseconds(options.PollIntervalMs), time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await _pumpController.DisposeAsync().ConfigureAwait(false);
            foreach (var device in _oxygen.Cast<IAsyncDisposable>().Concat(_moisture).Append(_pump))
            {
                await device.DisposeAsync().ConfigureAwait(false);
            }
            await _factory.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One poll: read every sensor, feed the alarms with the worst values, publish and store.</summary>
    internal async Task PollAsync(CancellationToken cancellationToken)
    {
        var readings = new List<GloveboxSensorReading>();
        double? worstO2 = null;
        foreach (var sensor in _oxygen)
        {
            try
            {
                var ppm = await sensor.ReadO2PpmAsync(cancellationToken).ConfigureAwait(false);
                worstO2 = Math.Max(worstO2 ?? double.MinValue, ppm);
                readings.Add(new GloveboxSensorReading(sensor.Name, "o2", ppm, "ppm"));
            }
            catch (DeviceException ex)
            {
                LogSensorFailed(logger, sensor.Name, ex.Message);
                readings.Add(new GloveboxSensorReading(sensor.Name, "o2", null, "ppm", ex.Message));
            }
        }
        MoistureReading? worstH2o = null;
        foreach (var sensor in _moisture)
        {
            try
            {
                var reading = await sensor.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (worstH2o is not { } w || reading.DewPointC > w.DewPointC)
                {
                    worstH2o = reading;
                }
                readings.Add(new GloveboxSensorReading(sensor.Name, "dewPoint", reading.DewPointC, "C"));
                readings.Add(new GloveboxSensorReading(sensor.Name, "h2o", reading.H2oPpm, "ppm"));
            }
            catch (DeviceException ex)
            {
                LogSensorFailed(logger, sensor.Name, ex.Message);
                readings.Add(new GloveboxSensorReading(sensor.Name, "h2o", null, "ppm", ex.Message));
            }
        }

        var changes = new List<AlarmChange>();
        void Collect(AlarmChange change) => changes.Add(change);
        _alarms.Changed += Collect;
        try
        {
            _alarms.UpdateO2(worstO2);
            _alarms.UpdateDewPoint(worstH2o?.DewPointC);
        }
        finally
        {
            _alarms.Changed -= Collect;
        }

        var now = time.GetUtcNow();
        double? pressure = options.UsesSimulation ? simulation.Sample().PressureHPa : null;
        var pump = _pumpController.State;
        var telemetry = new GloveboxTelemetry(now, worstO2, worstH2o?.H2oPpm, worstH2o?.DewPointC, pressure, pump.On,
            _pumpController.LastError ?? pump.Reason, Level(_alarms.O2.Level), Level(_alarms.H2o.Level), _alarms.SafeToScan, readings);
        lock (_gate)
        {
            _latest = telemetry;
        }
        await bus.PublishAsync(GloveboxTopics.AtmosphereTopic(bus.Instrument), telemetry, MqttQualityOfServiceLevel.AtMostOnce,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        WritePoint(telemetry);

        foreach (var change in changes)
        {
            await OnAlarmChangedAsync(change, cancellationToken).ConfigureAwait(false);
        }
        await PublishStatusIfChangedAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task OnAlarmChangedAsync(AlarmChange change, CancellationToken cancellationToken)
    {
        var unit = change.Quantity == GloveboxAlarms.O2Quantity ? "ppm" : "C";
        LogAlarm(logger, change.Quantity, change.From, change.To, change.Value);
        await bus.PublishAsync(GloveboxTopics.AlarmTopic(bus.Instrument),
            new GloveboxAlarmEvent(change.At, change.Quantity, Level(change.From), Level(change.To), change.Value, unit, _alarms.SafeToScan),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (sink is not null)
        {
            var limit = change.Quantity == GloveboxAlarms.O2Quantity ? options.O2AlarmPpm : options.DewPointAlarmC;
            var point = Points.New(Measurements.Alarm, bus.Instrument, ServiceNames.Glovebox, change.At)
                .Tag(TagNames.Alarm, $"{change.Quantity}_high")
                .Field("active", change.To == AlarmLevel.Alarm)
                .Field("limit", limit)
                .Field("message", $"{change.Quantity} {Level(change.From)} -> {Level(change.To)}");
            sink.Write(change.Value is { } v ? point.Field("value", v) : point);
        }
        if (change.To == AlarmLevel.Alarm && !_pumpController.State.On)
        {
            try
            {
                await _pumpController.OnAlarmAsync(change.Quantity, cancellationToken).ConfigureAwait(false);
            }
            catch (DeviceException ex)
            {
                LogPumpFailed(logger, ex.Message);
            }
        }
    }

    private void WritePoint(GloveboxTelemetry t)
    {
        if (sink is null)
        {
            return;
        }
        var point = Points.New(Measurements.Glovebox, bus.Instrument, ServiceNames.Glovebox, t.TimestampUtc).Field("pump_on", t.PumpOn);
        if (t.O2Ppm is { } o2)
        {
            point = point.Field("o2_ppm", o2);
        }
        if (t.H2oPpm is { } h2o)
        {
            point = point.Field("h2o_ppm", h2o);
        }
        if (t.DewPointC is { } dp)
        {
            point = point.Field("dew_point_c", dp);
        }
        if (t.PressureMbar is { } p)
        {
            point = point.Field("pressure_mbar", p);
        }
        sink.Write(point);
    }

    private async Task PublishStatusIfChangedAsync(CancellationToken cancellationToken)
    {
        var pump = _pumpController.State;
        var details = new GloveboxStatusDetails(_alarms.SafeToScan, Level(_alarms.O2.Level), Level(_alarms.H2o.Level), pump.On, pump.Reason,
            options.UsesSimulation ? simulation.Scenario : null);
        if (details == _publishedDetails)
        {
            return;
        }
        _publishedDetails = details;
        var driver = $"o2: {string.Join("+", options.OxygenOrDefault.Select(o => o.Driver))}; h2o: {string.Join("+", options.MoistureOrDefault.Select(o => o.Driver))}; pump: {options.Pump.Driver}";
        await bus.SetStatusAsync(SeccmJson.ToElement(details), driver, cancellationToken).ConfigureAwait(false);
    }

    private async Task OnPumpChangedAsync(PumpState state)
    {
        try
        {
            LogPump(logger, state.On, state.Reason);
            await bus.PublishAsync(GloveboxTopics.PumpTopic(bus.Instrument), ToResult(state)).ConfigureAwait(false);
            await PublishStatusIfChangedAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            LogPumpFailed(logger, ex.Message);
        }
    }

    private async Task<PumpStateResult> PumpAsync(PumpCommand command, CancellationToken cancellationToken)
    {
        if (!command.On && !_alarms.SafeToScan)
        {
            throw CommandException.Refused(
                $"pump: not switching off: O2 is {Level(_alarms.O2.Level)} and H2O is {Level(_alarms.H2o.Level)}; the pump stays on until the glovebox is safe.");
        }
        try
        {
            if (command.On)
            {
                await _pumpController.TurnOnAsync(command.Reason, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _pumpController.TurnOffAsync(command.Reason, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (DeviceException ex)
        {
            throw new CommandException(ErrorCodes.DeviceError, $"pump '{_pump.Name}': {ex.Message}");
        }
        return ToResult(_pumpController.State);
    }

    private Task<SimulateResult> SimulateAsync(SimulateCommand command, CancellationToken cancellationToken)
    {
        if (!options.UsesSimulation)
        {
            throw CommandException.Refused("simulate: no glovebox device is simulated here; scenarios only act on simulated sensors.");
        }
        try
        {
            simulation.Trigger(command.Scenario);
        }
        catch (ArgumentException ex)
        {
            throw CommandException.Invalid($"simulate: {ex.Message}");
        }
        LogScenario(logger, command.Scenario);
        return Task.FromResult(new SimulateResult(command.Scenario));
    }

    private Task<GloveboxTelemetry> StatusAsync(EmptyCommand command, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _latest is { } latest
                ? Task.FromResult(latest)
                : throw new CommandException(ErrorCodes.Busy, "status: the first poll of the sensors has not finished yet; ask again in a second.");
        }
    }

    private async Task OnScanStatusAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (Received<ServiceStatus>(message) is not { } status)
        {
            return;
        }
        if (!status.IsOnline && !_pumpController.State.On)
        {
            await PumpOnQuietlyAsync(() => _pumpController.OnScanServiceOfflineAsync(cancellationToken)).ConfigureAwait(false);
        }
    }

    private async Task OnScanFinishedAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (Received<ScanFinishedEvent>(message) is not { } finished)
        {
            return;
        }
        if (message.Retain || _pumpController.State.On)
        {
            return;
        }
        await PumpOnQuietlyAsync(() => finished.State is ScanState.Aborted or ScanState.Failed
            ? _pumpController.OnScanAbortedAsync(cancellationToken)
            : _pumpController.OnScanEndedAsync(cancellationToken)).ConfigureAwait(false);
    }

    private async Task OnScanStateAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (Received<ScanStateEvent>(message) is not { } state)
        {
            return;
        }
        if (!message.Retain && state.State is ScanState.Aborted or ScanState.Failed && !_pumpController.State.On)
        {
            await PumpOnQuietlyAsync(() => _pumpController.OnScanAbortedAsync(cancellationToken)).ConfigureAwait(false);
        }
    }

    /// <summary>A scan message checked by its contract; null (logged, nothing changes) when it is malformed or out of range.</summary>
    private T? Received<T>(IncomingMessage message) where T : class, IValidatable =>
        message.TryRead<T>(logger, "the pump is left as it is", out var value) ? value : null;

    private async Task PumpOnQuietlyAsync(Func<Task> turnOn)
    {
        try
        {
            await turnOn().ConfigureAwait(false);
        }
        catch (DeviceException ex)
        {
            // The controller keeps retrying on its own timer.
            LogPumpFailed(logger, ex.Message);
        }
    }

    private PumpStateResult ToResult(PumpState state) => new(state.On, state.Reason, state.Since, _pumpController.AutoOnAt);

    internal static string Level(AlarmLevel level) => level switch
    {
        AlarmLevel.Ok => GloveboxAlarmLevels.Ok,
        AlarmLevel.Warning => GloveboxAlarmLevels.Warning,
        AlarmLevel.Alarm => GloveboxAlarmLevels.Alarm,
        _ => GloveboxAlarmLevels.Unknown,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Glovebox devices ready: O2 {Oxygen}; H2O {Moisture}; pump {Pump}")]
    private static partial void LogStarted(ILogger logger, string oxygen, string moisture, string pump);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Glovebox devices could not be set up: {Message}")]
    private static partial void LogDevicesFailed(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Circulation pump: {Message}")]
    private static partial void LogPumpFailed(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Glovebox sensor {Sensor} read failed: {Message}")]
    private static partial void LogSensorFailed(ILogger logger, string sensor, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Glovebox {Quantity} alarm level {From} -> {To} at {Value}")]
    private static partial void LogAlarm(ILogger logger, string quantity, AlarmLevel from, AlarmLevel to, double? value);

    [LoggerMessage(Level = LogLevel.Information, Message = "Circulation pump on={On}: {Reason}")]
    private static partial void LogPump(ILogger logger, bool on, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulated glovebox scenario '{Scenario}' started")]
    private static partial void LogScenario(ILogger logger, string scenario);
}
