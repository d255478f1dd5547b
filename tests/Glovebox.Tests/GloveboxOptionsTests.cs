using System.ComponentModel.DataAnnotations;
using Seccm.Glovebox.Sensors;

namespace Seccm.Glovebox.Tests;

public sealed class GloveboxOptionsTests
{
    private static List<string> Problems(GloveboxOptions options) =>
        options.Validate(new ValidationContext(options)).Select(r => r.ErrorMessage!).ToList();

    [Fact]
    public void Defaults_are_valid_simulated_devices_with_the_physics_limits()
    {
        var options = new GloveboxOptions();
        Assert.Empty(Problems(options));
        Assert.True(options.UsesSimulation);
        Assert.Equal((5, 10), (options.O2Thresholds.WarningAbove, options.O2Thresholds.AlarmAbove));
        Assert.Equal((-70, -60), (options.DewPointThresholds.WarningAbove, options.DewPointThresholds.AlarmAbove));
        Assert.Single(options.OxygenOrDefault);
    }

    [Fact]
    public void Each_problem_names_its_configuration_key()
    {
        var options = new GloveboxOptions
        {
            Oxygen = [new DeviceOptions(), new DeviceOptions { Driver = "teledyne" }],
            Pump = new DeviceOptions { Driver = "relay-board", Port = "/dev/ttyUSB3", Relay = 0 },
            O2AlarmPpm = 2,
        };
        var problems = Problems(options);
        Assert.Contains(problems, p => p.StartsWith("Glovebox:Oxygen:1:Port", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Glovebox:Pump:Relay", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("O2WarningPpm", StringComparison.Ordinal) && p.Contains("AlarmAbove (2)", StringComparison.Ordinal));
        Assert.Equal(3, problems.Count);
    }

    /// <summary>
    /// Pins: the Modbus moisture transmitter and pump coil default to the Modbus serial-line default, 19200 8E1 (as
    /// PROTOCOLS.md gives it), the ASCII devices to 9600 8N1; every line setting is an option, checked at start.
    /// </summary>
    [Fact]
    public void Serial_lines_default_per_driver_and_bad_settings_are_named()
    {
        Assert.Equal("19200 8E1", new DeviceOptions { Driver = DeviceOptions.Modbus }.Line("x").ToString());
        Assert.Equal("19200 8E1", new DeviceOptions { Driver = DeviceOptions.ModbusCoil }.Line("x").ToString());
        Assert.Equal("9600 8N1", new DeviceOptions { Driver = DeviceOptions.Rapidox }.Line("x").ToString());
        Assert.Equal("9600 8N2", new DeviceOptions { Driver = DeviceOptions.Modbus, BaudRate = 9600, Parity = "none", StopBits = "2" }.Line("x").ToString());

        var options = new GloveboxOptions
        {
            Moisture = [new DeviceOptions { Driver = DeviceOptions.Modbus, Port = "/dev/ttyUSB1", Parity = "evn" }],
            Pump = new DeviceOptions { Driver = DeviceOptions.RelayBoard, Port = "/dev/ttyUSB2", BaudRate = 0 },
        };
        var problems = Problems(options);
        Assert.Contains(problems, p => p.StartsWith("Glovebox:Moisture:0:Parity: 'evn' is not a parity", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Glovebox:Pump:BaudRate: 0 is not a baud rate", StringComparison.Ordinal));
    }
}
