using Seccm.Devices.Modbus;

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

    public int BaudRate { get; set; } = 9600;

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
        if (BaudRate <= 0)
        {
            yield return $"{where}:BaudRate: {BaudRate} is not a baud rate.";
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
