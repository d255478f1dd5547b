using Seccm.Devices;
using Seccm.Devices.Emulators.Glovebox;
using Seccm.Devices.Modbus;
using Seccm.Electrochemistry.Atmosphere;
using Seccm.Glovebox.Sensors;

namespace Seccm.Glovebox.Tests.Sensors;

public sealed class ModbusDevicesTests
{
    private static ModbusRtuMaster Master(SerialPair pair) =>
        new(pair.Host, new ModbusRtuOptions { ResponseTimeout = TimeSpan.FromMilliseconds(300), RetryDelay = TimeSpan.FromMilliseconds(10) });

    [Theory]
    [InlineData(ModbusWordOrder.LowWordFirst)]
    [InlineData(ModbusWordOrder.HighWordFirst)]
    public async Task Moisture_sensor_reads_dew_point_and_ppm_in_either_word_order(ModbusWordOrder order)
    {
        await using var pair = await SerialPair.StartAsync(19200);
        await using var emulator = new ModbusDewPointEmulator(pair.Device, 240, 0, 2, order);
        emulator.Set(-76.0, 1.03);
        emulator.Start();
        var sensor = new ModbusMoistureSensor("h2o", Master(pair), 240, 0, 2, order, 1013.25);

        var reading = await sensor.ReadAsync(CancellationToken.None);
        Assert.Equal(-76.0, reading.DewPointC, 4);
        Assert.Equal(1.03, reading.H2oPpm, 4);
    }

    [Fact]
    public async Task Without_a_ppm_register_ppm_comes_from_the_frost_point()
    {
        await using var pair = await SerialPair.StartAsync(19200);
        await using var emulator = new ModbusDewPointEmulator(pair.Device, 240, 0, 2, ModbusWordOrder.LowWordFirst);
        emulator.Set(-60.0, 999);
        emulator.Start();
        var sensor = new ModbusMoistureSensor("h2o", Master(pair), 240, 0, null, ModbusWordOrder.LowWordFirst, 1013.25);

        Assert.Equal(FrostPoint.PpmvFromFrostPointC(-60), (await sensor.ReadAsync(CancellationToken.None)).H2oPpm, 4);
    }

    [Fact]
    public async Task A_wrong_word_order_is_caught_as_an_implausible_value_that_names_the_setting()
    {
        await using var pair = await SerialPair.StartAsync(19200);
        await using var emulator = new ModbusDewPointEmulator(pair.Device, 240, 0, 2, ModbusWordOrder.HighWordFirst);
        emulator.Set(-75.3, 1.1);
        emulator.Start();
        var sensor = new ModbusMoistureSensor("h2o", Master(pair), 240, 0, 2, ModbusWordOrder.LowWordFirst, 1013.25);

        var ex = await Assert.ThrowsAsync<DeviceProtocolException>(async () => await sensor.ReadAsync(CancellationToken.None));
        Assert.Contains("word order", ex.Message, StringComparison.Ordinal);
        Assert.Contains("LowWordFirst", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Moisture_sensor_recovers_after_crc_errors_and_silence()
    {
        await using var pair = await SerialPair.StartAsync(19200);
        await using var emulator = new ModbusDewPointEmulator(pair.Device, 240, 0, 2, ModbusWordOrder.LowWordFirst);
        emulator.Start();
        var sensor = new ModbusMoistureSensor("h2o", Master(pair), 240, 0, 2, ModbusWordOrder.LowWordFirst, 1013.25);

        emulator.Faults.GarbledAnswers = 1;
        Assert.Equal(-75, (await sensor.ReadAsync(CancellationToken.None)).DewPointC, 4);

        emulator.Faults.Silent = true;
        await Assert.ThrowsAsync<DeviceTimeoutException>(async () => await sensor.ReadAsync(CancellationToken.None));
        emulator.Faults.Silent = false;
        Assert.Equal(-75, (await sensor.ReadAsync(CancellationToken.None)).DewPointC, 4);
    }

    [Fact]
    public async Task Coil_pump_switches_and_reads_back_the_coil()
    {
        await using var pair = await SerialPair.StartAsync(19200);
        await using var emulator = new ModbusSlaveEmulator(pair.Device, 1);
        emulator.SetCoil(5, true);
        emulator.Start();
        var pump = new ModbusCoilPump("pump", Master(pair), 1, 5);

        Assert.True(await pump.ReadAsync(CancellationToken.None));
        await pump.SetAsync(false, CancellationToken.None);
        Assert.False(emulator.GetCoil(5));
        Assert.False(await pump.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Coil_pump_on_a_missing_coil_gets_the_slaves_exception()
    {
        await using var pair = await SerialPair.StartAsync(19200);
        await using var emulator = new ModbusSlaveEmulator(pair.Device, 1);
        emulator.Start();
        var pump = new ModbusCoilPump("pump", Master(pair), 1, 9);

        var ex = await Assert.ThrowsAsync<ModbusExceptionResponse>(async () => await pump.SetAsync(true, CancellationToken.None));
        Assert.Equal(2, ex.ExceptionCode);
    }
}
