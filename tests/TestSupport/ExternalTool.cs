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

/// <summary>
/// A child process the test owns; killed (whole tree) on dispose. Its output is kept line by line, and a test can
/// wait for the line it expects (<see cref="WaitForLineAsync"/>) instead of for a time.
/// </summary>
public sealed class OwnedProcess : IDisposable
{
    private readonly System.Text.StringBuilder _output = new();
    private readonly List<string> _lines = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _streamsOpen = 2;

    public OwnedProcess(Process process)
    {
        Process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>The command line, for messages.</summary>
    public string Display => $"{Path.GetFileName(Process.StartInfo.FileName)} {string.Join(' ', Process.StartInfo.ArgumentList.Select(Quote))}";

    /// <summary>How many lines were printed so far: a mark to wait for lines after it.</summary>
    public int LineCount { get { lock (_output) return _lines.Count; } }

    /// <summary>
    /// The first line (from line <paramref name="from"/> on) that matches; fails with everything printed so far if the
    /// program ends or <paramref name="cancellationToken"/> (a hang guard) fires first.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, string what, CancellationToken cancellationToken, int from = 0)
    {
        while (true)
        {
            Task changed;
            bool ended;
            lock (_output)
            {
                var hit = _lines.Skip(from).FirstOrDefault(match);
                if (hit is not null)
                {
                    return hit;
                }
                ended = _streamsOpen == 0;
                changed = _changed.Task;
            }
            if (ended)
            {
                Assert.Fail($"{Display} ended before {what}. It printed:{Environment.NewLine}{Output}");
            }
            try
            {
                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Gave up waiting for {what} from {Display}. It printed:{Environment.NewLine}{Output}");
            }
        }
    }

    /// <summary>Waits for the program to end on its own and for its output to be read to the end; returns the output.</summary>
    public async Task<string> WaitForExitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{Display} did not end. It printed:{Environment.NewLine}{Output}");
        }
        return Output;
    }

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

    private void OnLine(string? line)
    {
        TaskCompletionSource changed;
        lock (_output)
        {
            if (line is null)
            {
                _streamsOpen--;
            }
            else
            {
                _output.AppendLine(line);
                _lines.Add(line);
            }
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./:=".Contains(c, StringComparison.Ordinal))
            ? arg
            : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
