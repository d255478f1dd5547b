using Seccm.TestSupport;

namespace Seccm.Host.Reproduce.Tests.Infrastructure;

/// <summary>Runs the real <c>seccm-reproduce</c> (seccm-reproduce.dll built beside the tests) as a child process, as a user runs it.</summary>
public static class ReproduceCli
{
    private static readonly CliTool SeccmReproduce = new("seccm-reproduce");

    public static Task<CliResult> RunAsync(params string[] args) => SeccmReproduce.RunAsync(args);
}
