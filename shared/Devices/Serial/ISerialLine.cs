namespace Seccm.Devices.Serial;

/// <summary>A byte/line transport to an instrument: a serial port in production, anything stream-like in tests.</summary>
public interface ISerialLine : IAsyncDisposable
{
    /// <summary>Human-readable name (port path) used in error messages.</summary>
    string Name { get; }

    /// <summary>Writes raw bytes and flushes.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken);

    /// <summary>Writes an ASCII line followed by <paramref name="terminator"/>.</summary>
    ValueTask WriteLineAsync(string line, string terminator, CancellationToken cancellationToken);

    /// <summary>
    /// Reads one line terminated by LF (a preceding CR is stripped). Throws <see cref="DeviceTimeoutException"/>
    /// when nothing complete arrives within <paramref name="timeout"/>.
    /// </summary>
    ValueTask<string> ReadLineAsync(TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Reads exactly <paramref name="count"/> bytes or throws <see cref="DeviceTimeoutException"/>.</summary>
    ValueTask<byte[]> ReadBytesAsync(int count, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Drops whatever was received but not read yet (stale bytes after a timeout or garbage).</summary>
    void DiscardInput();
}
