using System.Diagnostics;

namespace Seccm.TestSupport;

/// <summary>What a user sees running one of our executables: exit code, stdout, stderr.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>
/// Runs one of the repository's executables (<c>seccm</c>, <c>seccm-bench</c>, <c>seccm-reproduce</c>: its dll built beside
/// the tests by a project reference) as a child process, as a user runs it.
/// </summary>
public sealed class CliTool(string assemblyName)
{
    private readonly string _dllPath = Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll");

    /// <summary>Runs to the end; the timeout only catches a hang and is no speed requirement.</summary>
    public async Task<CliResult> RunAsync(params string[] args)
    {
        Assert.True(File.Exists(_dllPath), $"{assemblyName}.dll is not beside the tests at {_dllPath}");
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(_dllPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_gcServer"] = "0";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(hang.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{assemblyName} {string.Join(' ', args)} hung (no exit after 5 minutes)");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
