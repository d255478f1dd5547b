using System.Buffers.Binary;
using Seccm.Devices.Modbus;
using Seccm.Devices.Serial;

namespace Seccm.Devices.Emulators.Glovebox;

/// <summary>
/// A Modbus RTU slave with holding registers and coils (functions 01, 03, 05). Requests to other addresses and
/// frames with a bad CRC are ignored, as on a real bus; unknown registers answer exception 02.
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

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            byte[] request;
            try
            {
                request = await Line.ReadBytesAsync(8, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
            catch (DeviceTimeoutException)
            {
                continue;
            }
            if (!ModbusCrc.IsValid(request))
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

    private byte[] Answer(byte[] request)
    {
        var function = request[1];
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
            default:
                return Exception(function, 1);
        }
    }

    private byte[] Exception(byte function, byte code) => ModbusCrc.Append([SlaveAddress, (byte)(function | 0x80), code]);
}
