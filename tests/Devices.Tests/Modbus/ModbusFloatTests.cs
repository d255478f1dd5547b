using CsCheck;
using Seccm.Devices.Modbus;

namespace Seccm.Devices.Tests.Modbus;

public sealed class ModbusFloatTests
{
    [Fact]
    public void Low_word_first_puts_the_low_half_in_the_first_register()
    {
        // -75.5f = 0xC2970000.
        Assert.Equal(-75.5f, ModbusFloat.Decode(0x0000, 0xC297, ModbusWordOrder.LowWordFirst));
        Assert.Equal(-75.5f, ModbusFloat.Decode(0xC297, 0x0000, ModbusWordOrder.HighWordFirst));
        Assert.Equal(((ushort)0x0000, (ushort)0xC297), ModbusFloat.Encode(-75.5f, ModbusWordOrder.LowWordFirst));
    }

    [Fact]
    public void Encode_then_decode_round_trips_in_both_orders()
    {
        Gen.Single.Sample(value =>
        {
            foreach (var order in new[] { ModbusWordOrder.LowWordFirst, ModbusWordOrder.HighWordFirst })
            {
                var (a, b) = ModbusFloat.Encode(value, order);
                var back = ModbusFloat.Decode(a, b, order);
                Assert.Equal(BitConverter.SingleToUInt32Bits(value), BitConverter.SingleToUInt32Bits(back));
            }
        });
    }
}
