using System.Text;
using Seccm.Devices.Serial;

namespace Seccm.Devices.Emulators.Glovebox;

/// <summary>Faults a test switches on at any time to see how a driver copes.</summary>
public sealed class EmulatorFaults
{
    private int _garbledAnswers;
    private volatile bool _silent;

    /// <summary>The device reads requests but never answers (a stuck or unplugged instrument).</summary>
    public bool Silent
    {
        get => _silent;
        set => _silent = value;
    }

    /// <summary>
    /// The next this-many answers are corrupted: unparsable text for ASCII devices, a bad CRC for Modbus devices.
    /// </summary>
    public int GarbledAnswers
    {
        get => Volatile.Read(ref _garbledAnswers);
        set => Volatile.Write(ref _garbledAnswers, value);
    }

    internal bool TakeGarbled()
    {
        while (true)
        {
            var n = Volatile.Read(ref _garbledAnswers);
            if (n <= 0)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _garbledAnswers, n - 1, n) == n)
            {
                return true;
            }
        }
    }
}

/// <summary>
/// The device end of a serial line: runs a loop that speaks one instrument's byte protocol until disposed.
/// The emulator does not own the line.
/// </summary>
public abstract class DeviceEmulator : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private int _requests;

    protected DeviceEmulator(ISerialLine line, TimeProvider? time)
    {
        Line = line;
        Time = time ?? TimeProvider.System;
    }

    public EmulatorFaults Faults { get; } = new();

    /// <summary>Requests received so far (answered or not).</summary>
    public int Requests => Volatile.Read(ref _requests);

    protected ISerialLine Line { get; }

    protected TimeProvider Time { get; }

    /// <summary>Starts answering. Returns this, so that creation and start read as one line.</summary>
    public DeviceEmulator Start()
    {
        _loop ??= Task.Run(() => RunGuardedAsync(_stop.Token));
        return this;
    }

    protected abstract Task RunAsync(CancellationToken cancellationToken);

    protected void CountRequest() => Interlocked.Increment(ref _requests);

    /// <summary>Reads an ASCII command ending in CR or LF, waiting as long as it takes.</summary>
    protected async Task<string> ReadCommandAsync(CancellationToken cancellationToken)
    {
        var command = new StringBuilder();
        while (true)
        {
            byte b;
            try
            {
                b = (await Line.ReadBytesAsync(1, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false))[0];
            }
            catch (DeviceTimeoutException)
            {
                continue;
            }
            if (b is (byte)'\r' or (byte)'\n')
            {
                if (command.Length > 0)
                {
                    return command.ToString();
                }
                continue;
            }
            command.Append((char)b);
        }
    }

    protected ValueTask WriteAsciiAsync(string text, CancellationToken cancellationToken) =>
        Line.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken);

    private async Task RunGuardedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (DeviceException) when (cancellationToken.IsCancellationRequested)
        {
            // The line was closed under us during shutdown.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// A device that answers each ASCII command line with one line: the request/answer loop with its faults (silent,
/// garbled) written once; a device says only what it answers.
/// </summary>
public abstract class AsciiCommandEmulator(ISerialLine line, TimeProvider? time) : DeviceEmulator(line, time)
{
    /// <summary>The line sent instead of the answer while the faults garble answers (CR LF included).</summary>
    protected abstract string GarbledAnswer { get; }

    /// <summary>The answer to <paramref name="command"/> (without its CR/LF), CR LF included.</summary>
    protected abstract string Answer(string command);

    protected sealed override async Task RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var command = await ReadCommandAsync(cancellationToken).ConfigureAwait(false);
            CountRequest();
            if (Faults.Silent)
            {
                continue;
            }
            var answer = Faults.TakeGarbled() ? GarbledAnswer : Answer(command);
            await WriteAsciiAsync(answer, cancellationToken).ConfigureAwait(false);
        }
    }
}
