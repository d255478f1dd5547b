using Seccm.Host.Bench.Tests.Infrastructure;

namespace Seccm.Host.Bench.Tests;

public class ProgramTests
{
    [Fact]
    public async Task Bench_help_lists_the_four_benchmarks()
    {
        var result = await BenchCli.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var bench in new[] { "analyze", "simulate", "mqtt", "coldstart" })
        {
            Assert.Matches($@"(?m)^\s+{bench}\b", result.Output);
        }
    }
}
