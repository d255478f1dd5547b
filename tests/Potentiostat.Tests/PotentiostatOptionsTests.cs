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
}
