using System.Globalization;
using Seccm.TestSupport;

namespace Seccm.Integration.Tests.Infrastructure;

/// <summary>Runs the real <c>seccm</c> executable (built beside the tests) as a child process.</summary>
public static class SeccmProcess
{
    public static string DllPath { get; } = Path.Combine(AppContext.BaseDirectory, "seccm.dll");

    public static OwnedProcess Start(IEnumerable<string> args, IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        if (!File.Exists(DllPath))
        {
            throw new InvalidOperationException($"seccm.dll is not beside the tests at {DllPath}.");
        }
        var env = new Dictionary<string, string>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_gcServer"] = "0",
        };
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                env[k] = v;
            }
        }
        return ExternalTool.Start("dotnet", [DllPath, .. args], workingDirectory, env);
    }

    /// <summary><c>seccm {verb} --mqtt-host 127.0.0.1 --mqtt-port P --instrument I</c> plus <paramref name="extra"/>.</summary>
    public static OwnedProcess StartService(string verb, MosquittoServer broker, string instrument, IDictionary<string, string>? environment = null,
        params string[] extra) =>
        Start([verb, "--mqtt-host", broker.Host, "--mqtt-port", broker.Port.ToString(CultureInfo.InvariantCulture), "--instrument", instrument, .. extra],
            environment);
}
