using Seccm.Devices.Emulators.Glovebox;
using Seccm.Devices.Modbus;
using Seccm.Devices.Serial;
using Seccm.TestSupport;

namespace Seccm.Devices.Tests.Modbus;

/// <summary>The master against the slave emulator (or raw bytes) on the two ends of a socat pair.</summary>
public sealed class ModbusRtuMasterTests : IAsyncLifetime
{
    private const byte Slave = 240;
    private static readonly CancellationToken None = CancellationToken.None;
    private SocatPair _pair = null!;
    private StreamSerialLine _host = null!;
    private StreamSerialLine _device = null!;

    public async Task InitializeAsync()
    {
        _pair = await SocatPair.StartAsync();
        _host = StreamSerialLine.OpenPort(_pair.HostPort, 19200);
        _device = StreamSerialLine.OpenPort(_pair.DevicePort, 19200);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _device.DisposeAsync();
        _pair.Dispose();
    }

    // A slave that answers gets a long timeout, so a loaded machine answering late is not a timeout (nor an extra
    // attempt); the silent-slave tests pass 300 ms to stay short.
    private ModbusRtuMaster Master(int retries = 2, int responseTimeoutMs = 10_000) =>
        new(_host, new ModbusRtuOptions { ResponseTimeout = TimeSpan.FromMilliseconds(responseTimeoutMs), Retries = retries, RetryDelay = TimeSpan.FromMilliseconds(10) });

    private ModbusSlaveEmulator Emulator()
    {
        var emulator = new ModbusSlaveEmulator(_device, Slave);
        emulator.Start();
        return emulator;
    }

    [Fact]
    public async Task Reads_registers_and_floats_in_both_word_orders()
    {
        await using var emulator = Emulator();
        emulator.SetRegister(0, 0x1234);
        emulator.SetRegister(1, 0xABCD);
        emulator.SetFloat(10, -75.25f, ModbusWordOrder.LowWordFirst);
        emulator.SetFloat(20, 1.17f, ModbusWordOrder.HighWordFirst);
        var master = Master();

        Assert.Equal(new ushort[] { 0x1234, 0xABCD }, await master.ReadHoldingRegistersAsync(Slave, 0, 2, None));
        Assert.Equal(-75.25f, await master.ReadFloatAsync(Slave, 10, ModbusWordOrder.LowWordFirst, None));
        Assert.Equal(1.17f, await master.ReadFloatAsync(Slave, 20, ModbusWordOrder.HighWordFirst, None));
    }

    [Fact]
    public async Task Writes_and_reads_back_coils()
    {
        await using var emulator = Emulator();
        for (ushort c = 0; c < 10; c++)
        {
            emulator.SetCoil(c, false);
        }
        var master = Master();

        await master.WriteSingleCoilAsync(Slave, 0, true, None);
        await master.WriteSingleCoilAsync(Slave, 9, true, None);
        Assert.True(emulator.GetCoil(9));
        var coils = await master.ReadCoilsAsync(Slave, 0, 10, None);
        Assert.Equal(new[] { true, false, false, false, false, false, false, false, false, true }, coils);
        await master.WriteSingleCoilAsync(Slave, 0, false, None);
        Assert.False(emulator.GetCoil(0));
    }

    [Fact]
    public async Task An_exception_response_is_a_readable_error_and_is_not_retried()
    {
        await using var emulator = Emulator();
        var master = Master(responseTimeoutMs: 5000);

        var ex = await Assert.ThrowsAsync<ModbusExceptionResponse>(() => master.ReadHoldingRegistersAsync(Slave, 0x0100, 2, None));
        Assert.Equal(2, ex.ExceptionCode);
        Assert.Contains("illegal data address", ex.Message, StringComparison.Ordinal);
        Assert.Contains(_pair.HostPort, ex.Message, StringComparison.Ordinal);
        Assert.Contains("240", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, emulator.Requests);
    }

    [Fact]
    public async Task A_silent_slave_times_out_after_the_retries_and_the_bus_recovers()
    {
        await using var emulator = Emulator();
        emulator.SetRegister(0, 42);
        emulator.Faults.Silent = true;
        var master = Master(retries: 2, responseTimeoutMs: 300);

        var ex = await Assert.ThrowsAsync<DeviceTimeoutException>(() => master.ReadHoldingRegistersAsync(Slave, 0, 1, None));
        Assert.Contains("slave 240", ex.Message, StringComparison.Ordinal);
        Assert.Contains(_pair.HostPort, ex.Message, StringComparison.Ordinal);
        Assert.Contains("3 attempts", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, emulator.Requests);

        emulator.Faults.Silent = false;
        Assert.Equal(new ushort[] { 42 }, await master.ReadHoldingRegistersAsync(Slave, 0, 1, None));
    }

    [Fact]
    public async Task One_bad_crc_is_retried_transparently()
    {
        await using var emulator = Emulator();
        emulator.SetRegister(0, 7);
        emulator.Faults.GarbledAnswers = 1;

        Assert.Equal(new ushort[] { 7 }, await Master(responseTimeoutMs: 5000).ReadHoldingRegistersAsync(Slave, 0, 1, None));
        Assert.Equal(2, emulator.Requests);
    }

    [Fact]
    public async Task Persistent_crc_errors_end_in_a_protocol_error_that_names_the_crc()
    {
        await using var emulator = Emulator();
        emulator.SetRegister(0, 7);
        emulator.Faults.GarbledAnswers = 100;

        var ex = await Assert.ThrowsAsync<DeviceProtocolException>(() => Master(retries: 1, responseTimeoutMs: 5000).ReadHoldingRegistersAsync(Slave, 0, 1, None));
        Assert.Contains("CRC", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, emulator.Requests);
    }

    [Fact]
    public async Task An_answer_from_another_slave_address_is_rejected()
    {
        var master = Master(retries: 0);
        var read = master.ReadHoldingRegistersAsync(Slave, 0, 1, None);
        await _device.ReadBytesAsync(8, TimeSpan.FromSeconds(5), None);
        await _device.WriteAsync(ModbusCrc.Append([17, 0x03, 0x02, 0x00, 0x2A]), None);

        var ex = await Assert.ThrowsAsync<DeviceProtocolException>(() => read);
        Assert.Contains("slave address 17", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_answer_of_the_wrong_length_is_rejected()
    {
        var master = Master(retries: 0);
        var read = master.ReadHoldingRegistersAsync(Slave, 0, 2, None);
        await _device.ReadBytesAsync(8, TimeSpan.FromSeconds(5), None);
        await _device.WriteAsync(ModbusCrc.Append([Slave, 0x03, 0x02, 0x00, 0x2A]), None);

        var ex = await Assert.ThrowsAsync<DeviceProtocolException>(() => read);
        Assert.Contains("2 data bytes, expected 4", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_late_answer_to_a_request_that_timed_out_is_not_read_as_the_answer_to_the_next()
    {
        // 2 s: the late answer reaches the master within its quiet window even on a loaded machine.
        var master = Master(retries: 0, responseTimeoutMs: 2000);
        var first = master.ReadHoldingRegistersAsync(Slave, 13, 1, None);
        await _device.ReadBytesAsync(8, TimeSpan.FromSeconds(30), None);
        await Assert.ThrowsAsync<DeviceTimeoutException>(() => first);
        // The slave answers register 13 after the master gave up; then the master asks for register 14.
        await _device.WriteAsync(ModbusCrc.Append([Slave, 0x03, 0x02, 0x00, 39]), None);
        var second = master.ReadHoldingRegistersAsync(Slave, 14, 1, None);
        var request = await _device.ReadBytesAsync(8, TimeSpan.FromSeconds(30), None);
        Assert.Equal(ModbusFrame.ReadHoldingRegisters(Slave, 14, 1), request);
        await _device.WriteAsync(ModbusCrc.Append([Slave, 0x03, 0x02, 0x00, 42]), None);

        Assert.Equal(new ushort[] { 42 }, await second);
    }

    [Fact]
    public async Task Concurrent_requests_on_one_bus_do_not_interleave()
    {
        await using var emulator = Emulator();
        for (ushort r = 0; r < 20; r++)
        {
            emulator.SetRegister(r, (ushort)(r * 3));
        }
        // The slave answers every request: a long timeout, so a loaded machine answering late does not time out.
        var master = Master(responseTimeoutMs: 30_000);

        var reads = Enumerable.Range(0, 20).Select(r => master.ReadHoldingRegistersAsync(Slave, (ushort)r, 1, None)).ToArray();
        var values = await Task.WhenAll(reads);
        Assert.Equal(Enumerable.Range(0, 20).Select(r => (ushort)(r * 3)), values.Select(v => v[0]));
    }
}
