using System.Diagnostics;
using System.Globalization;

namespace Seccm.Integration.Tests.Interop;

/// <summary>
/// A program no one here wrote (mosquitto_sub, mosquitto_rr, a Paho script, or seccm itself), run as a user runs
/// it; its output is read line by line and the test waits for the lines it expects, never for a time.
/// </summary>
internal sealed class ToolProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _streamsOpen = 2;

    private ToolProcess(string display, ProcessStartInfo psi)
    {
        Display = display;
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        if (!_process.Start())
        {
            throw new InvalidOperationException($"Could not start {display}");
        }
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The command line, for messages.</summary>
    public string Display { get; }

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return string.Join(Environment.NewLine, _lines);
            }
        }
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>How many lines were printed so far: a mark to wait for lines after it.</summary>
    public int LineCount
    {
        get
        {
            lock (_gate)
            {
                return _lines.Count;
            }
        }
    }

    public static ToolProcess Start(string fileName, IEnumerable<string> args, IDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }
        return new ToolProcess($"{Path.GetFileName(fileName)} {string.Join(' ', psi.ArgumentList.Select(Quote))}", psi);
    }

    /// <summary>
    /// The first line (from line <paramref name="from"/> on) that matches; fails with everything printed so far if the
    /// program ends or time runs out first.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, string what, CancellationToken cancellationToken, int from = 0)
    {
        while (true)
        {
            Task changed;
            bool ended;
            lock (_gate)
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

    /// <summary>Waits for the program to end on its own and for its output to be read to the end.</summary>
    public async Task<string> WaitForExitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{Display} did not end. It printed:{Environment.NewLine}{Output}");
        }
        return Output;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (line is null)
            {
                _streamsOpen--;
            }
            else
            {
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

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Display} (pid {_process.Id})");
}
