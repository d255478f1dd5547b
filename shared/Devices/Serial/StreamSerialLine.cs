using System.IO.Ports;
using System.Text;

namespace Seccm.Devices.Serial;

/// <summary>
/// An <see cref="ISerialLine"/> over any duplex stream. A background reader fills a buffer so that
/// reads can time out without losing bytes and without blocking on the port.
/// </summary>
public sealed class StreamSerialLine : ISerialLine
{
    private const int MaxLineBytes = 64 * 1024;
    private readonly Stream _stream;
    private readonly IDisposable? _owner;
    private readonly TimeProvider _time;
    private readonly List<byte> _buffer = [];
    private readonly SemaphoreSlim _dataArrived = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private Exception? _readerFault;

    public StreamSerialLine(string name, Stream stream, TimeProvider? time = null, IDisposable? owner = null)
    {
        Name = name;
        _stream = stream;
        _owner = owner;
        _time = time ?? TimeProvider.System;
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>Opens a serial port at 8N1, no handshake, at <paramref name="portName"/>.</summary>
    public static StreamSerialLine OpenPort(string portName, int baudRate, TimeProvider? time = null) =>
        OpenPort(portName, new SerialLineSettings(baudRate), time);

    /// <summary>Opens a serial port with <paramref name="settings"/> (baud, data bits, parity, stop bits), no handshake.</summary>
    public static StreamSerialLine OpenPort(string portName, SerialLineSettings settings, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var port = new SerialPort(portName, settings.BaudRate, settings.Parity, settings.DataBits, settings.StopBits)
        {
            Handshake = Handshake.None,
            ReadTimeout = SerialPort.InfiniteTimeout,
            WriteTimeout = 2000,
        };
        try
        {
            port.Open();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            port.Dispose();
            throw new DeviceException($"Cannot open serial port '{portName}' at {settings}: {ex.Message}", ex);
        }
        return new StreamSerialLine(portName, port.BaseStream, time, port);
    }

    public string Name { get; }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new DeviceException($"Writing to '{Name}' failed: {ex.Message}", ex);
        }
    }

    public ValueTask WriteLineAsync(string line, string terminator, CancellationToken cancellationToken) =>
        WriteAsync(Encoding.ASCII.GetBytes(line + terminator), cancellationToken);

    public async ValueTask<string> ReadLineAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var bytes = await ReadUntilAsync(TakeLine, timeout, "a line", cancellationToken).ConfigureAwait(false);
        return Encoding.ASCII.GetString(bytes);
    }

    public ValueTask<byte[]> ReadBytesAsync(int count, TimeSpan timeout, CancellationToken cancellationToken) =>
        ReadUntilAsync(() => TakeBytes(count), timeout, $"{count} byte(s)", cancellationToken);

    public void DiscardInput()
    {
        lock (_buffer)
        {
            _buffer.Clear();
        }
    }

    private async ValueTask<byte[]> ReadUntilAsync(Func<byte[]?> take, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        while (true)
        {
            byte[]? result;
            lock (_buffer)
            {
                result = take();
            }
            if (result is not null)
            {
                return result;
            }
            if (_readerFault is not null)
            {
                throw new DeviceException($"Reading from '{Name}' failed: {_readerFault.Message}", _readerFault);
            }
            try
            {
                await _dataArrived.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new DeviceTimeoutException($"'{Name}' did not send {what} within {timeout.TotalMilliseconds:0} ms.");
            }
        }
    }

    private byte[]? TakeLine()
    {
        var lf = _buffer.IndexOf((byte)'\n');
        if (lf < 0)
        {
            if (_buffer.Count > MaxLineBytes)
            {
                _buffer.Clear();
                throw new DeviceProtocolException($"'{Name}' sent more than {MaxLineBytes} bytes without a line end.");
            }
            return null;
        }
        var end = lf > 0 && _buffer[lf - 1] == (byte)'\r' ? lf - 1 : lf;
        var line = _buffer.GetRange(0, end).ToArray();
        _buffer.RemoveRange(0, lf + 1);
        return line;
    }

    private byte[]? TakeBytes(int count)
    {
        if (_buffer.Count < count)
        {
            return null;
        }
        var bytes = _buffer.GetRange(0, count).ToArray();
        _buffer.RemoveRange(0, count);
        return bytes;
    }

    private async Task ReadLoopAsync()
    {
        var chunk = new byte[4096];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var n = await _stream.ReadAsync(chunk, _stop.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    _readerFault = new EndOfStreamException("the port was closed");
                    _dataArrived.Release();
                    return;
                }
                lock (_buffer)
                {
                    _buffer.AddRange(chunk.AsSpan(0, n));
                }
                _dataArrived.Release();
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            _readerFault = ex;
            _dataArrived.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            if (_owner is not null)
            {
                _owner.Dispose();
            }
            else
            {
                await _stream.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
        }
        try
        {
            await _reader.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        _stop.Dispose();
        _dataArrived.Dispose();
    }
}
