using Seccm.Host.Tests.Infrastructure;

namespace Seccm.Host.Tests;

public class ProgramTests
{
    [Fact]
    public async Task Help_lists_every_verb()
    {
        var result = await SeccmCli.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var verb in new[] { "all", "stage", "potentiostat", "scan", "diffusion", "glovebox", "demo", "simulate", "analyze", "replay", "bench" })
        {
            Assert.Matches($@"(?m)^\s+{verb}\b", result.Output);
        }
    }

    [Fact]
    public async Task Bench_help_lists_the_four_benchmarks()
    {
        var result = await SeccmCli.RunAsync("bench", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var bench in new[] { "analyze", "simulate", "mqtt", "coldstart" })
        {
            Assert.Matches($@"(?m)^\s+{bench}\b", result.Output);
        }
    }
}
