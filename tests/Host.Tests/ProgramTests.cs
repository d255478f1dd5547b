using Seccm.Host.Tests.Infrastructure;

namespace Seccm.Host.Tests;

public class ProgramTests
{
    [Fact]
    public async Task Help_lists_every_verb()
    {
        var result = await SeccmCli.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var verb in new[] { "all", "stage", "potentiostat", "scan", "diffusion", "glovebox", "demo", "simulate", "analyze", "replay" })
        {
            Assert.Matches($@"(?m)^\s+{verb}\b", result.Output);
        }
        // The benchmarks and the paper reproduction are tools of their own (bench/SystemBench, tools/Reproduce).
        foreach (var tool in new[] { "bench", "reproduce" })
        {
            Assert.DoesNotMatch($@"(?m)^\s+{tool}\b", result.Output);
        }
    }
}
