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
}
