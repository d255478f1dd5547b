namespace Seccm.Devices.Modbus;

/// <summary>Order of the two 16-bit registers that carry one IEEE-754 32-bit float.</summary>
public enum ModbusWordOrder
{
    /// <summary>The first register holds the low 16 bits (the transmitters in PROTOCOLS.md).</summary>
    LowWordFirst,

    /// <summary>The first register holds the high 16 bits ("big-endian" float).</summary>
    HighWordFirst,
}

/// <summary>Packs and unpacks 32-bit floats spread over two holding registers.</summary>
public static class ModbusFloat
{
    public static float Decode(ushort first, ushort second, ModbusWordOrder order)
    {
        var (high, low) = order == ModbusWordOrder.LowWordFirst ? (second, first) : (first, second);
        return BitConverter.UInt32BitsToSingle(((uint)high << 16) | low);
    }

    public static (ushort First, ushort Second) Encode(float value, ModbusWordOrder order)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        var high = (ushort)(bits >> 16);
        var low = (ushort)(bits & 0xFFFF);
        return order == ModbusWordOrder.LowWordFirst ? (low, high) : (high, low);
    }
}
