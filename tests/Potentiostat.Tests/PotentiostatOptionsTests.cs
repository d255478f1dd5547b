using System.ComponentModel.DataAnnotations;

namespace Seccm.Potentiostat.Tests;

public sealed class PotentiostatOptionsTests
{
    private static List<string> Problems(PotentiostatOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results.Select(r => r.ErrorMessage ?? "").ToList();
    }

    [Fact]
    public void The_defaults_are_valid() => Assert.Empty(Problems(new PotentiostatOptions()));

    [Theory]
    [InlineData("keithley", null, "lto", "Potentiostat:Driver 'keithley' is unknown")]
    [InlineData("methodscript", null, "lto", "Potentiostat:Port is required")]
    [InlineData("simulated", null, "graphite", "Potentiostat:Sample 'graphite' is unknown")]
    public void Bad_settings_name_the_setting(string driver, string? port, string sample, string expected)
    {
        var problems = Problems(new PotentiostatOptions { Driver = driver, Port = port, Sample = sample });
        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Out_of_range_numbers_are_refused_with_their_name()
    {
        var problems = Problems(new PotentiostatOptions { ChunkSamples = 1, TelemetryHz = 1000 });
        Assert.Contains(problems, p => p.Contains("Potentiostat:ChunkSamples", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Potentiostat:TelemetryHz", StringComparison.Ordinal));
    }

    /// <summary>Pins: serial line settings are options, validated at start, with the family's vendor default (Pico 230400, EmStat4 921600).</summary>
    [Fact]
    public void The_serial_line_follows_the_device_family_and_bad_settings_are_named()
    {
        static PotentiostatOptions Real() => new() { Driver = "methodscript", Port = "/dev/ttyUSB0" };
        Assert.Empty(Problems(Real()));
        Assert.Equal("921600 8N1", Real().Line.ToString());
        var pico = Real();
        pico.Device = "emstat-pico";
        Assert.Equal("230400 8N1", pico.Line.ToString());
        var set = Real();
        (set.BaudRate, set.Parity, set.StopBits) = (115200, "even", "2");
        Assert.Equal("115200 8E2", set.Line.ToString());

        var unknown = Real();
        unknown.Device = "emstat3";
        var problems = Problems(unknown);
        Assert.Contains(problems, p => p.Contains("Potentiostat:Device 'emstat3' is unknown: use one of emstat-pico, emstat4-lr, emstat4-hr", StringComparison.Ordinal));
        var bad = Real();
        (bad.Parity, bad.DataBits) = ("sometimes", 4);
        problems = Problems(bad);
        Assert.Contains(problems, p => p.Contains("Potentiostat:Parity: 'sometimes' is not a parity", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Potentiostat:DataBits: 4 must be 5, 6, 7 or 8", StringComparison.Ordinal));
    }
}
