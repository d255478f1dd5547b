using Seccm.Devices;
using Seccm.Devices.Modbus;
using Seccm.Devices.Serial;
using Seccm.Glovebox.Simulation;

namespace Seccm.Glovebox.Sensors;

/// <summary>
/// Builds drivers from <see cref="DeviceOptions"/>. Ports are opened once and shared: an RS-485 bus with a
/// transmitter and the pump coil gets one <see cref="ModbusRtuMaster"/>. Disposing the factory closes the ports.
/// </summary>
public sealed class DeviceFactory(GloveboxSimulation simulation, TimeProvider time, Func<string, SerialLineSettings, ISerialLine>? openPort = null)
    : IAsyncDisposable
{
    private readonly Func<string, SerialLineSettings, ISerialLine> _openPort = openPort ?? ((port, settings) => StreamSerialLine.OpenPort(port, settings, time));
    private readonly Dictionary<string, (ISerialLine Line, SerialLineSettings Settings)> _lines = [];
    private readonly Dictionary<string, ModbusRtuMaster> _masters = [];

    public IOxygenSensor CreateOxygenSensor(DeviceOptions options, string where)
    {
        Check(options, where, DeviceOptions.OxygenDrivers);
        var name = options.DisplayName;
        return options.Driver switch
        {
            DeviceOptions.Simulated => new SimulatedOxygenSensor(name, simulation),
            DeviceOptions.Rapidox => new RapidoxOxygenSensor(name, Line(options, where), options.Timeout, options.Retries, time),
            // Streaming: Timeout is the line interval; a reading goes stale only after three missed lines, so jitter does not flap it.
            _ => new TeledyneOxygenSensor(name, Line(options, where), options.Timeout * 3, time),
        };
    }

    public IMoistureSensor CreateMoistureSensor(DeviceOptions options, string where)
    {
        Check(options, where, DeviceOptions.MoistureDrivers);
        var name = options.DisplayName;
        return options.Driver switch
        {
            DeviceOptions.Simulated => new SimulatedMoistureSensor(name, simulation),
            DeviceOptions.Vaisala => new VaisalaMoistureSensor(name, Line(options, where), options.Timeout, options.Retries, options.PressureHPa, time),
            _ => new ModbusMoistureSensor(name, Master(options, where), (byte)options.SlaveAddress, (ushort)options.DewPointRegister,
                options.PpmRegister is { } r ? (ushort)r : null, options.WordOrder, options.PressureHPa),
        };
    }

    public IPump CreatePump(DeviceOptions options, string where)
    {
        Check(options, where, DeviceOptions.PumpDrivers);
        var name = options.DisplayName;
        return options.Driver switch
        {
            DeviceOptions.Simulated => new SimulatedPump(name, simulation),
            DeviceOptions.RelayBoard => new RelayBoardPump(name, Line(options, where), options.Relay, options.Timeout, options.Retries, time),
            _ => new ModbusCoilPump(name, Master(options, where), (byte)options.SlaveAddress, (ushort)options.Coil),
        };
    }

    private static void Check(DeviceOptions options, string where, IReadOnlyList<string> drivers)
    {
        var problems = options.Validate(where, drivers).ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(Environment.NewLine, problems), nameof(options));
        }
    }

    private ISerialLine Line(DeviceOptions options, string where)
    {
        var port = options.Port!;
        var settings = options.Line(where);
        if (_lines.TryGetValue(port, out var open))
        {
            if (open.Settings != settings)
            {
                throw new ArgumentException(
                    $"{where}:BaudRate: port '{port}' is already open at {open.Settings} baud for another device, this one asks for {settings}; devices sharing a port need the same line settings.",
                    nameof(options));
            }
            return open.Line;
        }
        var line = _openPort(port, settings);
        _lines[port] = (line, settings);
        return line;
    }

    private ModbusRtuMaster Master(DeviceOptions options, string where)
    {
        var line = Line(options, where);
        if (!_masters.TryGetValue(options.Port!, out var master))
        {
            master = new ModbusRtuMaster(line, new ModbusRtuOptions
            {
                BaudRate = options.Line(where).BaudRate,
                ResponseTimeout = options.Timeout,
                Retries = options.Retries,
            }, time);
            _masters[options.Port!] = master;
        }
        return master;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (line, _) in _lines.Values)
        {
            try
            {
                await line.DisposeAsync().ConfigureAwait(false);
            }
            catch (DeviceException)
            {
            }
        }
        _lines.Clear();
        _masters.Clear();
    }
}
