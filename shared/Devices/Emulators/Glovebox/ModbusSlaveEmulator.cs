using System.Buffers.Binary;
using Seccm.Devices.Modbus;
using Seccm.Devices.Serial;

namespace Seccm.Devices.Emulators.Glovebox;

/// <summary>
/// A Modbus RTU slave with holding registers and coils (functions 01, 03, 05, 06, 16). A request is framed as a slave
/// frames it, whatever its length: by the silence after it, and for the functions it knows by the length the function
/// implies (so a request split by a slow line is not cut). Requests to other addresses and frames with a bad CRC are
/// ignored, as on a real bus; a function it does not implement answers exception 01, unknown registers exception 02.
/// <see cref="EmulatorFaults.GarbledAnswers"/> sends answers with a wrong CRC.
/// </summary>
public class ModbusSlaveEmulator(ISerialLine line, byte slaveAddress, TimeProvider? time = null) : DeviceEmulator(line, time)
{
    private readonly Dictionary<ushort, ushort> _registers = [];
    private readonly Dictionary<ushort, bool> _coils = [];

    public byte SlaveAddress { get; } = slaveAddress;

    public void SetRegister(ushort address, ushort value)
    {
        lock (_registers)
        {
            _registers[address] = value;
        }
    }

    public ushort GetRegister(ushort address)
    {
        lock (_registers)
        {
            return _registers[address];
        }
    }

    public void SetFloat(ushort address, float value, ModbusWordOrder order)
    {
        var (first, second) = ModbusFloat.Encode(value, order);
        lock (_registers)
        {
            _registers[address] = first;
            _registers[(ushort)(address + 1)] = second;
        }
    }

    /// <summary>Declares a coil (so that reading and writing it is legal) with its initial state.</summary>
    public void SetCoil(ushort address, bool on)
    {
        lock (_coils)
        {
            _coils[address] = on;
        }
    }

    public bool GetCoil(ushort address)
    {
        lock (_coils)
        {
            return _coils[address];
        }
    }

    /// <summary>
    /// The silence that ends a request of unknown length. The specification's is 3.5 characters (1.75 ms above 19200
    /// baud); an emulator on a pseudo-terminal of a loaded machine waits longer so that scheduling never splits a frame.
    /// </summary>
    public TimeSpan FrameSilence { get; init; } = TimeSpan.FromMilliseconds(20);

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            byte[] request;
            try
            {
                request = await ReadFrameAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DeviceTimeoutException)
            {
                continue;
            }
            if (request.Length < 4 || !ModbusCrc.IsValid(request))
            {
                // Out of step with the master: drop everything and wait for the next frame.
                Line.DiscardInput();
                continue;
            }
            if (request[0] != SlaveAddress)
            {
                continue;
            }
            CountRequest();
            if (Faults.Silent)
            {
                continue;
            }
            var answer = Answer(request);
            if (Faults.TakeGarbled())
            {
                answer[^1] ^= 0x5A;
            }
            await Line.WriteAsync(answer, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One request: its first byte whenever it comes, then bytes until the silence or the length its function implies.</summary>
    private async Task<byte[]> ReadFrameAsync(CancellationToken cancellationToken)
    {
        var frame = new List<byte>(await Line.ReadBytesAsync(1, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false));
        while (true)
        {
            var expected = ExpectedRequestLength(frame);
            if (expected is { } complete && frame.Count >= complete)
            {
                return [.. frame];
            }
            // A known function waits for its whole frame (a master never pauses inside one); anything else ends at the silence.
            var wait = expected is not null || frame.Count < 2 ? TimeSpan.FromSeconds(1) : FrameSilence;
            try
            {
                frame.AddRange(await Line.ReadBytesAsync(1, wait, cancellationToken).ConfigureAwait(false));
            }
            catch (DeviceTimeoutException)
            {
                return [.. frame];
            }
        }
    }

    /// <summary>The length of a request of a function this slave knows (null when unknown or not yet readable).</summary>
    private static int? ExpectedRequestLength(List<byte> frame)
    {
        if (frame.Count < 2)
        {
            return null;
        }
        return frame[1] switch
        {
            ModbusFunction.ReadCoils or 0x02 or ModbusFunction.ReadHoldingRegisters or 0x04
                or ModbusFunction.WriteSingleCoil or ModbusFunction.WriteSingleRegister => 8,
            0x0F or ModbusFunction.WriteMultipleRegisters => frame.Count >= 7 ? 9 + frame[6] : null,
            _ => null,
        };
    }

    private byte[] Answer(byte[] request)
    {
        var function = request[1];
        if (request.Length < 8)
        {
            // Too short for any function's two words: a function this slave does not know.
            return Exception(function, 1);
        }
        var first = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(2));
        var second = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(4));
        switch (function)
        {
            case ModbusFunction.ReadHoldingRegisters:
            {
                if (second is < 1 or > ModbusFrame.MaxRegisters)
                {
                    return Exception(function, 3);
                }
                var body = new byte[3 + 2 * second];
                body[0] = SlaveAddress;
                body[1] = function;
                body[2] = (byte)(2 * second);
                lock (_registers)
                {
                    for (var i = 0; i < second; i++)
                    {
                        if (!_registers.TryGetValue((ushort)(first + i), out var value))
                        {
                            return Exception(function, 2);
                        }
                        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(3 + 2 * i), value);
                    }
                }
                return ModbusCrc.Append(body);
            }
            case ModbusFunction.ReadCoils:
            {
                if (second is < 1 or > ModbusFrame.MaxCoils)
                {
                    return Exception(function, 3);
                }
                var body = new byte[3 + (second + 7) / 8];
                body[0] = SlaveAddress;
                body[1] = function;
                body[2] = (byte)((second + 7) / 8);
                lock (_coils)
                {
                    for (var i = 0; i < second; i++)
                    {
                        if (!_coils.TryGetValue((ushort)(first + i), out var on))
                        {
                            return Exception(function, 2);
                        }
                        if (on)
                        {
                            body[3 + i / 8] |= (byte)(1 << (i % 8));
                        }
                    }
                }
                return ModbusCrc.Append(body);
            }
            case ModbusFunction.WriteSingleCoil:
                if (second is not (0xFF00 or 0x0000))
                {
                    return Exception(function, 3);
                }
                lock (_coils)
                {
                    if (!_coils.ContainsKey(first))
                    {
                        return Exception(function, 2);
                    }
                    _coils[first] = second == 0xFF00;
                }
                return request.ToArray();
            case ModbusFunction.WriteSingleRegister:
                lock (_registers)
                {
                    if (!_registers.ContainsKey(first))
                    {
                        return Exception(function, 2);
                    }
                    _registers[first] = second;
                }
                return request.ToArray();
            case ModbusFunction.WriteMultipleRegisters:
            {
                // start, count, byte count, values: count 1-123 and the byte count twice it, or exception 03.
                if (second is < 1 or > 123 || request.Length != 9 + 2 * second || request[6] != 2 * second)
                {
                    return Exception(function, 3);
                }
                lock (_registers)
                {
                    for (var i = 0; i < second; i++)
                    {
                        if (!_registers.ContainsKey((ushort)(first + i)))
                        {
                            return Exception(function, 2);
                        }
                    }
                    for (var i = 0; i < second; i++)
                    {
                        _registers[(ushort)(first + i)] = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(7 + 2 * i));
                    }
                }
                return ModbusCrc.Append(request.AsSpan(0, 6));
            }
            default:
                return Exception(function, 1);
        }
    }

    private byte[] Exception(byte function, byte code) => ModbusCrc.Append([SlaveAddress, (byte)(function | 0x80), code]);
}
