using System.Diagnostics;

namespace Seccm.TestSupport;

/// <summary>
/// Finds the real programs the integration tests run (mosquitto, influxd, socat). A missing program is a
/// failure, never a skip: the test command installs them, and CI must not pass without them.
/// </summary>
public static class ExternalTool
{
    public static string Require(string name)
    {
        foreach (var dir in new[] { "/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin" }
                     .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }
        throw new InvalidOperationException(
            $"'{name}' is not installed. Run the README's test command (it installs mosquitto, influxdb and socat with apt-get).");
    }

    /// <summary>Starts a process with redirected output collected into <see cref="OwnedProcess.Output"/>.</summary>
    public static OwnedProcess Start(string fileName, IEnumerable<string> args, string? workingDirectory = null,
        IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                psi.Environment[k] = v;
            }
        }
        return new OwnedProcess(Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {fileName}"));
    }
}

/// <summary>A child process the test owns; killed (whole tree) on dispose.</summary>
public sealed class OwnedProcess : IDisposable
{
    private readonly System.Text.StringBuilder _output = new();

    public OwnedProcess(Process process)
    {
        Process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Output { get { lock (_output) return _output.ToString(); } }

    public bool HasExited => Process.HasExited;

    /// <summary>Waits for the exit and for the redirected output to be read to the end.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!Process.WaitForExit(timeout))
        {
            return false;
        }
        // The timed wait does not wait for the asynchronous output readers; this one does.
        Process.WaitForExit();
        return true;
    }

    /// <summary>SIGKILL: no clean shutdown, no last words.</summary>
    public void Kill()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>SIGTERM and wait: a graceful stop.</summary>
    public bool Terminate(TimeSpan timeout)
    {
        if (Process.HasExited)
        {
            return true;
        }
        using (var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }
        return Process.WaitForExit((int)timeout.TotalMilliseconds);
    }

    public void Dispose()
    {
        Kill();
        Process.Dispose();
    }
}
