using Seccm.Devices.Modbus;

namespace Seccm.Devices.Tests.Modbus;

public sealed class ModbusFrameTests
{
    [Fact]
    public void Read_holding_registers_request_is_address_function_start_count_crc()
    {
        Assert.Equal(new byte[] { 0x01, 0x03, 0x00, 0x00, 0x00, 0x01, 0x84, 0x0A }, ModbusFrame.ReadHoldingRegisters(1, 0, 1));
    }

    [Fact]
    public void Write_single_coil_uses_ff00_for_on_and_0000_for_off()
    {
        var on = ModbusFrame.WriteSingleCoil(240, 0x0010, true);
        var off = ModbusFrame.WriteSingleCoil(240, 0x0010, false);
        Assert.Equal(new byte[] { 240, 0x05, 0x00, 0x10, 0xFF, 0x00 }, on[..6]);
        Assert.Equal(new byte[] { 240, 0x05, 0x00, 0x10, 0x00, 0x00 }, off[..6]);
        Assert.True(ModbusCrc.IsValid(on));
        Assert.True(ModbusCrc.IsValid(off));
    }

    [Fact]
    public void Register_counts_outside_the_protocol_limits_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ModbusFrame.ReadHoldingRegisters(1, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModbusFrame.ReadHoldingRegisters(1, 0, 126));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModbusFrame.ReadCoils(1, 0, 2001));
    }

    [Fact]
    public void Registers_and_coils_decode_from_response_frames()
    {
        var registers = ModbusCrc.Append([0x01, 0x03, 0x04, 0x12, 0x34, 0xAB, 0xCD]);
        Assert.Equal(new ushort[] { 0x1234, 0xABCD }, ModbusFrame.DecodeRegisters(registers));

        // Coils 0..9 = 1,0,1,1,0,0,0,0, 0,1 packed LSB first.
        var coils = ModbusCrc.Append([0x01, 0x01, 0x02, 0b0000_1101, 0b0000_0010]);
        Assert.Equal(new[] { true, false, true, true, false, false, false, false, false, true }, ModbusFrame.DecodeCoils(coils, 10));
    }

    [Fact]
    public void Expected_byte_count_follows_the_request()
    {
        Assert.Equal(4, ModbusFrame.ExpectedByteCount(ModbusFrame.ReadHoldingRegisters(1, 0, 2)));
        Assert.Equal(2, ModbusFrame.ExpectedByteCount(ModbusFrame.ReadCoils(1, 0, 9)));
    }

    [Fact]
    public void Inter_frame_silence_is_three_and_a_half_characters_up_to_19200_baud()
    {
        Assert.Equal(3.5 * 11 / 9600, ModbusFrame.InterFrameSilence(9600).TotalSeconds, 6);
        Assert.Equal(2.005e-3, ModbusFrame.InterFrameSilence(19200).TotalSeconds, 6);
        Assert.Equal(1.75e-3, ModbusFrame.InterFrameSilence(115200).TotalSeconds, 9);
    }
}
