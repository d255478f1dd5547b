namespace Seccm.Devices.Modbus;

/// <summary>Modbus RTU CRC-16 (init 0xFFFF, reflected polynomial 0xA001), sent low byte first.</summary>
public static class ModbusCrc
{
    public static ushort Compute(ReadOnlySpan<byte> bytes)
    {
        ushort crc = 0xFFFF;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (ushort)((crc >> 1) ^ 0xA001) : (ushort)(crc >> 1);
            }
        }
        return crc;
    }

    /// <summary>Returns <paramref name="body"/> followed by its CRC, low byte first.</summary>
    public static byte[] Append(ReadOnlySpan<byte> body)
    {
        var frame = new byte[body.Length + 2];
        body.CopyTo(frame);
        var crc = Compute(body);
        frame[^2] = (byte)(crc & 0xFF);
        frame[^1] = (byte)(crc >> 8);
        return frame;
    }

    /// <summary>True when the last two bytes of <paramref name="frame"/> are the CRC of the rest.</summary>
    public static bool IsValid(ReadOnlySpan<byte> frame) =>
        frame.Length >= 3 && Compute(frame[..^2]) == (ushort)(frame[^2] | (frame[^1] << 8));
}
