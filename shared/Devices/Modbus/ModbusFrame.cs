using System.Buffers.Binary;

namespace Seccm.Devices.Modbus;

/// <summary>Modbus function codes this code speaks.</summary>
public static class ModbusFunction
{
    public const byte ReadCoils = 0x01;
    public const byte ReadHoldingRegisters = 0x03;
    public const byte WriteSingleCoil = 0x05;
    public const byte WriteSingleRegister = 0x06;
    public const byte WriteMultipleRegisters = 0x10;
}

/// <summary>Builds and decodes RTU frames (address, function, data, CRC). Pure functions, no I/O.</summary>
public static class ModbusFrame
{
    /// <summary>Largest quantities a single request may ask for (Modbus application protocol 1.1b3).</summary>
    public const int MaxRegisters = 125;
    public const int MaxCoils = 2000;

    /// <summary>The longest RTU frame on the line (Modbus over serial line 1.02, 2.5.1).</summary>
    public const int MaxFrameBytes = 256;

    /// <summary>A request of the form address, function, two big-endian 16-bit words, CRC (functions 01, 03, 05).</summary>
    public static byte[] BuildRequest(byte slaveAddress, byte function, ushort first, ushort second)
    {
        Span<byte> body = stackalloc byte[6];
        body[0] = slaveAddress;
        body[1] = function;
        BinaryPrimitives.WriteUInt16BigEndian(body[2..], first);
        BinaryPrimitives.WriteUInt16BigEndian(body[4..], second);
        return ModbusCrc.Append(body);
    }

    public static byte[] ReadHoldingRegisters(byte slaveAddress, ushort start, ushort count)
    {
        if (count is < 1 or > MaxRegisters)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"A Modbus read asks for 1 to {MaxRegisters} registers.");
        }
        return BuildRequest(slaveAddress, ModbusFunction.ReadHoldingRegisters, start, count);
    }

    public static byte[] ReadCoils(byte slaveAddress, ushort start, ushort count)
    {
        if (count is < 1 or > MaxCoils)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"A Modbus read asks for 1 to {MaxCoils} coils.");
        }
        return BuildRequest(slaveAddress, ModbusFunction.ReadCoils, start, count);
    }

    public static byte[] WriteSingleCoil(byte slaveAddress, ushort address, bool on) =>
        BuildRequest(slaveAddress, ModbusFunction.WriteSingleCoil, address, on ? (ushort)0xFF00 : (ushort)0x0000);

    /// <summary>Number of data bytes a read response to <paramref name="request"/> must carry.</summary>
    public static int ExpectedByteCount(ReadOnlySpan<byte> request)
    {
        var count = BinaryPrimitives.ReadUInt16BigEndian(request[4..]);
        return request[1] switch
        {
            ModbusFunction.ReadHoldingRegisters => count * 2,
            ModbusFunction.ReadCoils => (count + 7) / 8,
            _ => throw new ArgumentException($"Function 0x{request[1]:X2} has no byte-count response.", nameof(request)),
        };
    }

    /// <summary>Registers of a validated function-03 response frame (address, 03, byte count, data, CRC).</summary>
    public static ushort[] DecodeRegisters(ReadOnlySpan<byte> response)
    {
        var data = response.Slice(3, response[2]);
        var registers = new ushort[data.Length / 2];
        for (var i = 0; i < registers.Length; i++)
        {
            registers[i] = BinaryPrimitives.ReadUInt16BigEndian(data[(2 * i)..]);
        }
        return registers;
    }

    /// <summary>Coil states of a validated function-01 response; coils are packed LSB first.</summary>
    public static bool[] DecodeCoils(ReadOnlySpan<byte> response, int count)
    {
        var data = response.Slice(3, response[2]);
        var coils = new bool[count];
        for (var i = 0; i < count; i++)
        {
            coils[i] = (data[i / 8] & (1 << (i % 8))) != 0;
        }
        return coils;
    }

    /// <summary>
    /// The RTU inter-frame silence: 3.5 character times (11 bits each) at <paramref name="baudRate"/>, and the fixed
    /// 1.75 ms the specification recommends above 19200 baud.
    /// </summary>
    public static TimeSpan InterFrameSilence(int baudRate) =>
        baudRate > 19200 ? TimeSpan.FromMicroseconds(1750) : TimeSpan.FromSeconds(3.5 * 11 / baudRate);
}
