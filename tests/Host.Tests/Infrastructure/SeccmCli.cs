using Seccm.TestSupport;

namespace Seccm.Host.Tests.Infrastructure;

/// <summary>Runs the real <c>seccm</c> (seccm.dll built beside the tests) as a child process, as a user runs it.</summary>
public static class SeccmCli
{
    private static readonly CliTool Seccm = new("seccm");

    public static Task<CliResult> RunAsync(params string[] args) => Seccm.RunAsync(args);
}
