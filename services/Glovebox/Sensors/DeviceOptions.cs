using System.IO.Ports;
using Seccm.Devices.Modbus;
using Seccm.Devices.Serial;

namespace Seccm.Glovebox.Sensors;

/// <summary>
/// One sensor or pump relay in configuration. <see cref="Driver"/> picks the implementation; the other settings
/// apply to the drivers that use them.
/// </summary>
public sealed class DeviceOptions
{
    public const string Simulated = "simulated";
    public const string Rapidox = "rapidox";
    public const string Teledyne = "teledyne";
    public const string Vaisala = "vaisala";
    public const string Modbus = "modbus";
    public const string RelayBoard = "relay-board";
    public const string ModbusCoil = "modbus-coil";

    public static readonly IReadOnlyList<string> OxygenDrivers = [Simulated, Rapidox, Teledyne];
    public static readonly IReadOnlyList<string> MoistureDrivers = [Simulated, Vaisala, Modbus];
    public static readonly IReadOnlyList<string> PumpDrivers = [Simulated, RelayBoard, ModbusCoil];

    /// <summary>Name in telemetry and messages; defaults to the driver name.</summary>
    public string? Name { get; set; }

    public string Driver { get; set; } = Simulated;

    /// <summary>Serial port path, e.g. /dev/ttyUSB0 (all drivers but simulated).</summary>
    public string? Port { get; set; }

    /// <summary>Serial line; unset keys take the driver's default (<see cref="DefaultLine"/>).</summary>
    public int? BaudRate { get; set; }

    public int? DataBits { get; set; }

    /// <summary>none, even, odd, mark or space.</summary>
    public string? Parity { get; set; }

    /// <summary>1, 1.5 or 2.</summary>
    public string? StopBits { get; set; }

    /// <summary>How long the device may take to answer; for streaming analysers the line interval (stale after three).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    public int Retries { get; set; } = 2;

    /// <summary>Modbus slave address (1-247).</summary>
    public int SlaveAddress { get; set; } = 240;

    /// <summary>Modbus holding register of the dew point float.</summary>
    public int DewPointRegister { get; set; }

    /// <summary>Modbus holding register of the H2O ppmv float; unset means computed from the dew point.</summary>
    public int? PpmRegister { get; set; } = 2;

    public ModbusWordOrder WordOrder { get; set; } = ModbusWordOrder.LowWordFirst;

    /// <summary>Relay number on a relay board (from 1).</summary>
    public int Relay { get; set; } = 1;

    /// <summary>Modbus coil address of the pump relay.</summary>
    public int Coil { get; set; }

    /// <summary>Total gas pressure for ppmv from dew point, hPa.</summary>
    public double PressureHPa { get; set; } = 1013.25;

    public string DisplayName => string.IsNullOrWhiteSpace(Name) ? Driver : Name;

    /// <summary>
    /// The vendor's line settings of a driver. Modbus RTU: the serial-line specification's default, 19200 baud with even
    /// parity (8E1), as PROTOCOLS.md gives it for the dew-point transmitter. The ASCII analysers and the relay board: 9600 8N1.
    /// </summary>
    public static SerialLineSettings DefaultLine(string driver) => driver is Modbus or ModbusCoil
        ? new SerialLineSettings(19200, 8, System.IO.Ports.Parity.Even, System.IO.Ports.StopBits.One)
        : new SerialLineSettings(9600);

    /// <summary>The serial line of this entry: its own keys over the driver's defaults (valid after <see cref="Validate"/>).</summary>
    public SerialLineSettings Line(string where) =>
        SerialLineSettings.Parse(where, DefaultLine(Driver), BaudRate, DataBits, Parity, StopBits) is { Settings: { } settings }
            ? settings
            : throw new ArgumentException($"{where}: invalid serial line settings; validate the options first.");

    /// <summary>Problems with this entry, each naming <paramref name="where"/> (the configuration path) and the field.</summary>
    public IEnumerable<string> Validate(string where, IReadOnlyList<string> allowedDrivers)
    {
        if (!allowedDrivers.Contains(Driver))
        {
            yield return $"{where}:Driver: unknown driver '{Driver}'; use one of {string.Join(", ", allowedDrivers)}.";
            yield break;
        }
        if (Driver == Simulated)
        {
            yield break;
        }
        if (string.IsNullOrWhiteSpace(Port))
        {
            yield return $"{where}:Port: the '{Driver}' driver needs a serial port (e.g. /dev/ttyUSB0).";
        }
        foreach (var problem in SerialLineSettings.Parse(where, DefaultLine(Driver), BaudRate, DataBits, Parity, StopBits).Problems)
        {
            yield return problem;
        }
        if (Timeout <= TimeSpan.Zero)
        {
            yield return $"{where}:Timeout: {Timeout} must be positive.";
        }
        if (Retries is < 0 or > 10)
        {
            yield return $"{where}:Retries: {Retries} must be between 0 and 10.";
        }
        if (!(PressureHPa > 0))
        {
            yield return $"{where}:PressureHPa: {PressureHPa} must be positive.";
        }
        if (Driver is Modbus or ModbusCoil)
        {
            if (SlaveAddress is < 1 or > 247)
            {
                yield return $"{where}:SlaveAddress: {SlaveAddress} must be between 1 and 247.";
            }
            foreach (var (field, value) in new[] { ("DewPointRegister", DewPointRegister), ("PpmRegister", PpmRegister ?? 0), ("Coil", Coil) })
            {
                if (value is < 0 or > ushort.MaxValue - 1)
                {
                    yield return $"{where}:{field}: {value} is not a Modbus address (0-65534).";
                }
            }
        }
        if (Driver == RelayBoard && Relay < 1)
        {
            yield return $"{where}:Relay: relays are numbered from 1, got {Relay}.";
        }
    }
}
