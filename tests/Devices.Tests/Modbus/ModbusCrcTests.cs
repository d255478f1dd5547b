using System.Text;
using Seccm.Devices.Modbus;

namespace Seccm.Devices.Tests.Modbus;

public sealed class ModbusCrcTests
{
    [Fact]
    public void Read_one_register_request_has_the_crc_from_the_protocol_notes()
    {
        var frame = ModbusCrc.Append([0x01, 0x03, 0x00, 0x00, 0x00, 0x01]);
        Assert.Equal(new byte[] { 0x84, 0x0A }, frame[^2..]);
    }

    [Fact]
    public void Check_string_gives_the_standard_check_value()
    {
        Assert.Equal(0x4B37, ModbusCrc.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Any_single_flipped_bit_is_detected()
    {
        var frame = ModbusCrc.Append([0xF0, 0x03, 0x04, 0x12, 0x34, 0x56, 0x78]);
        Assert.True(ModbusCrc.IsValid(frame));
        for (var bit = 0; bit < frame.Length * 8; bit++)
        {
            var copy = frame.ToArray();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(ModbusCrc.IsValid(copy), $"bit {bit} flipped went unnoticed");
        }
    }
}
