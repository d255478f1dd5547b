using Seccm.Devices.Serial;

namespace Seccm.Devices.Modbus;

/// <summary>Settings of one RTU bus.</summary>
public sealed record ModbusRtuOptions
{
    /// <summary>Baud rate of the line; sets the inter-frame silence.</summary>
    public int BaudRate { get; init; } = 19200;

    /// <summary>How long a slave may take to answer (each part of the answer).</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Extra attempts after a timeout or a garbled answer (CRC, length, address). 0 disables retries.</summary>
    public int Retries { get; init; } = 2;

    /// <summary>Pause before a retry, on top of the inter-frame silence.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(50);
}

/// <summary>
/// A Modbus RTU master over an <see cref="ISerialLine"/>: functions 01, 03 and 05. One request at a time per bus,
/// so several drivers (a transmitter and a relay coil) can share one RS-485 line. Timeouts and garbled answers are
/// retried; an exception response is not.
/// </summary>
public sealed class ModbusRtuMaster
{
    private readonly ISerialLine _line;
    private readonly ModbusRtuOptions _options;
    private readonly TimeProvider _time;
    private readonly SerialRetry _retry;
    private readonly SemaphoreSlim _bus = new(1, 1);
    private readonly TimeSpan _silence;
    private long _lastActivity;
    // An attempt timed out: the slave may still answer it, and an RTU answer names no request (a late answer to a
    // read of register 13 reads as a valid answer to a read of register 14). The next request waits for a quiet line.
    private bool _lateAnswerPossible;

    public ModbusRtuMaster(ISerialLine line, ModbusRtuOptions? options = null, TimeProvider? time = null)
    {
        _line = line;
        _options = options ?? new ModbusRtuOptions();
        _time = time ?? TimeProvider.System;
        if (_options.BaudRate <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.BaudRate, "The Modbus baud rate must be positive.");
        }
        if (_options.Retries < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.Retries, "The Modbus retry count cannot be negative.");
        }
        _silence = ModbusFrame.InterFrameSilence(_options.BaudRate);
        _lastActivity = _time.GetTimestamp();
        // Bytes of a failed answer may still trickle in; the retry drops them so they cannot prefix the next answer.
        _retry = new SerialRetry(_line, _options.Retries, _options.RetryDelay, _time);
    }

    public string Port => _line.Name;

    public async Task<ushort[]> ReadHoldingRegistersAsync(byte slaveAddress, ushort start, ushort count, CancellationToken cancellationToken)
    {
        var request = ModbusFrame.ReadHoldingRegisters(slaveAddress, start, count);
        var response = await ExchangeAsync(request, cancellationToken).ConfigureAwait(false);
        return ModbusFrame.DecodeRegisters(response);
    }

    public async Task<bool[]> ReadCoilsAsync(byte slaveAddress, ushort start, ushort count, CancellationToken cancellationToken)
    {
        var request = ModbusFrame.ReadCoils(slaveAddress, start, count);
        var response = await ExchangeAsync(request, cancellationToken).ConfigureAwait(false);
        return ModbusFrame.DecodeCoils(response, count);
    }

    public async Task WriteSingleCoilAsync(byte slaveAddress, ushort address, bool on, CancellationToken cancellationToken)
    {
        var request = ModbusFrame.WriteSingleCoil(slaveAddress, address, on);
        var response = await ExchangeAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.AsSpan(0, 6).SequenceEqual(request.AsSpan(0, 6)))
        {
            throw new DeviceProtocolException(
                $"Modbus slave {slaveAddress} on '{Port}' did not echo the write of coil {address}: got {Hex(response)}.");
        }
    }

    /// <summary>Reads one 32-bit float from two holding registers starting at <paramref name="start"/>.</summary>
    public async Task<float> ReadFloatAsync(byte slaveAddress, ushort start, ModbusWordOrder order, CancellationToken cancellationToken)
    {
        var registers = await ReadHoldingRegistersAsync(slaveAddress, start, 2, cancellationToken).ConfigureAwait(false);
        return ModbusFloat.Decode(registers[0], registers[1], order);
    }

    private async Task<byte[]> ExchangeAsync(byte[] request, CancellationToken cancellationToken)
    {
        await _bus.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await _retry.ExecuteAsync(ct => new ValueTask<byte[]>(ExchangeOnceAsync(request, ct)), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _bus.Release();
        }
    }

    private async Task<byte[]> ExchangeOnceAsync(byte[] request, CancellationToken cancellationToken)
    {
        // RTU frames are delimited by silence: a request sent too soon after the last answer merges with it.
        var quiet = _time.GetElapsedTime(_lastActivity);
        if (quiet < _silence)
        {
            await Task.Delay(_silence - quiet, _time, cancellationToken).ConfigureAwait(false);
        }
        var slave = request[0];
        var function = request[1];
        var what = $"Modbus slave {slave} on '{Port}' (function 0x{function:X2})";
        if (_lateAnswerPossible)
        {
            await DropLateAnswerAsync(cancellationToken).ConfigureAwait(false);
        }
        _line.DiscardInput();
        await _line.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        try
        {
            var header = await ReadAsync(2, what, cancellationToken).ConfigureAwait(false);
            if (header[0] != slave)
            {
                throw new DeviceProtocolException($"{what}: the answer came from slave address {header[0]}.");
            }
            if (header[1] == (function | 0x80))
            {
                var rest = await ReadAsync(3, what, cancellationToken).ConfigureAwait(false);
                var frame = Concat(header, rest);
                CheckCrc(frame, what);
                throw new ModbusExceptionResponse(Port, slave, function, rest[0]);
            }
            if (header[1] != function)
            {
                throw new DeviceProtocolException($"{what}: the answer has function code 0x{header[1]:X2}.");
            }
            byte[] response;
            if (function == ModbusFunction.WriteSingleCoil)
            {
                response = Concat(header, await ReadAsync(6, what, cancellationToken).ConfigureAwait(false));
            }
            else
            {
                var byteCount = (await ReadAsync(1, what, cancellationToken).ConfigureAwait(false))[0];
                var expected = ModbusFrame.ExpectedByteCount(request);
                if (byteCount != expected)
                {
                    throw new DeviceProtocolException($"{what}: the answer announces {byteCount} data bytes, expected {expected}.");
                }
                var rest = await ReadAsync(byteCount + 2, what, cancellationToken).ConfigureAwait(false);
                response = Concat([header[0], header[1], byteCount], rest);
            }
            CheckCrc(response, what);
            return response;
        }
        finally
        {
            _lastActivity = _time.GetTimestamp();
        }
    }

    private async Task<byte[]> ReadAsync(int count, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await _line.ReadBytesAsync(count, _options.ResponseTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (DeviceTimeoutException ex)
        {
            _lateAnswerPossible = true;
            throw new DeviceTimeoutException($"{what} did not answer: {ex.Message}");
        }
    }

    // Whatever arrives until the line has been quiet for one response timeout is the late answer: dropped. Bounded by
    // the longest RTU frame, so a line that keeps chattering cannot hold the bus (the address, length and CRC checks remain).
    private async Task DropLateAnswerAsync(CancellationToken cancellationToken)
    {
        _lateAnswerPossible = false;
        for (var dropped = 0; dropped < ModbusFrame.MaxFrameBytes; dropped++)
        {
            try
            {
                await _line.ReadBytesAsync(1, _options.ResponseTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (DeviceTimeoutException)
            {
                return;
            }
        }
    }

    private static void CheckCrc(byte[] frame, string what)
    {
        if (!ModbusCrc.IsValid(frame))
        {
            throw new DeviceProtocolException($"{what}: CRC error in the answer {Hex(frame)}.");
        }
    }

    private static byte[] Concat(byte[] a, byte[] b)
    {
        var all = new byte[a.Length + b.Length];
        a.CopyTo(all, 0);
        b.CopyTo(all, a.Length);
        return all;
    }

    internal static string Hex(ReadOnlySpan<byte> bytes) => BitConverter.ToString(bytes.ToArray()).Replace('-', ' ');
}
