using System.Diagnostics;
using System.Text.Json;

namespace Seccm.Host.Tests.Infrastructure;

/// <summary>What a user sees running <c>seccm</c>: exit code, stdout, stderr.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>Runs the real <c>seccm</c> (seccm.dll built beside the tests) as a child process, as a user runs it.</summary>
public static class SeccmCli
{
    private static readonly string DllPath = Path.Combine(AppContext.BaseDirectory, "seccm.dll");

    /// <summary>Runs to the end; the timeout only catches a hang and is no speed requirement.</summary>
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        Assert.True(File.Exists(DllPath), $"seccm.dll is not beside the tests at {DllPath}");
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(DllPath);
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
            Assert.Fail($"seccm {string.Join(' ', args)} hung (no exit after 5 minutes)");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The numeric results of a <c>seccm bench ... --out FILE</c> JSON, metric → value.</summary>
    public static Dictionary<string, double> ReadBenchResults(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("results").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("value").ValueKind == JsonValueKind.Number ? p.Value.GetProperty("value").GetDouble() : double.NaN);
    }
}
