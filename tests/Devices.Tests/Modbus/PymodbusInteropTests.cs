using System.IO.Ports;
using Seccm.Devices.Emulators.Glovebox;
using Seccm.Devices.Modbus;
using Seccm.Devices.Serial;
using Seccm.TestSupport;

namespace Seccm.Devices.Tests.Modbus;

/// <summary>
/// A real Modbus peer no one here wrote, Debian's pymodbus, on the other end of a socat pair at the Modbus serial-line
/// default 19200 8E1: as the slave our master talks to, and as the master that talks to our slave emulator.
/// </summary>
public sealed class PymodbusInteropTests
{
    private const byte Slave = 240;
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(2);
    private static readonly SerialLineSettings EightE1 = new(19200, 8, Parity.Even, StopBits.One);

    // pyserial configures the port at 8E1. Pseudo-terminals of some kernels (this sandbox's among them) refuse PARENB with
    // EINVAL; a pty carries bytes, not characters framed on a wire, so parity has nothing to act on there: the port is
    // then set up with everything else as asked. On a real port or a kernel that accepts it, PARENB is set.
    private const string PtyParity = """
        import termios
        _tcsetattr = termios.tcsetattr
        def _tcsetattr_on_pty(fd, when, attributes):
            try:
                _tcsetattr(fd, when, attributes)
            except termios.error:
                attributes = list(attributes)
                attributes[2] &= ~(termios.PARENB | termios.PARODD)
                _tcsetattr(fd, when, attributes)
        termios.tcsetattr = _tcsetattr_on_pty

        """;

    // A pymodbus RTU slave 240 at 19200 8E1: the dew point -75.0 and 2618 ppm as floats, low word first, at registers 0
    // and 2 (the word order packed by Python's struct, not by our ModbusFloat), and four coils from 0, all off. Says
    // READY once it serves.
    private const string PymodbusSlave = """
        import asyncio, struct, sys
        from pymodbus.datastore import ModbusSequentialDataBlock, ModbusSlaveContext, ModbusServerContext
        from pymodbus.server import StartAsyncSerialServer
        from pymodbus.framer.rtu_framer import ModbusRtuFramer
        def low_word_first(value):
            high, low = struct.unpack(">HH", struct.pack(">f", value))
            return [low, high]
        store = ModbusSlaveContext(hr=ModbusSequentialDataBlock(0, low_word_first(-75.0) + low_word_first(2618.0)),
                                   co=ModbusSequentialDataBlock(0, [False] * 4), zero_mode=True)
        async def main():
            server = await StartAsyncSerialServer(context=ModbusServerContext(slaves={240: store}, single=False),
                framer=ModbusRtuFramer, port=sys.argv[1], baudrate=19200, bytesize=8, parity="E", stopbits=1, defer_start=True)
            await server.start()
            print("READY", flush=True)
            await server.serve_forever()
        asyncio.run(main())
        """;

    /// <summary>Pins: our master reads floats and coils from, and writes a coil of, a real slave at 8E1 (the Modbus serial default).</summary>
    [Fact]
    public async Task Our_master_reads_and_writes_a_pymodbus_slave_at_8E1()
    {
        using var pair = await SocatPair.StartAsync();
        var script = Path.Combine(Path.GetTempPath(), $"seccm-pymodbus-slave-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(script, PtyParity + PymodbusSlave);
        try
        {
            using var slave = ExternalTool.Start(ExternalTool.Require("python3"), [script, pair.DevicePort]);
            await Eventually.TrueAsync(() => slave.Output.Contains("READY", StringComparison.Ordinal) || slave.HasExited, "the pymodbus slave to start", Hang);
            Assert.False(slave.HasExited, slave.Output);
            await using var host = StreamSerialLine.OpenPort(pair.HostPort, EightE1);
            var master = new ModbusRtuMaster(host, new ModbusRtuOptions { BaudRate = EightE1.BaudRate, ResponseTimeout = TimeSpan.FromSeconds(5) });

            Assert.Equal(-75f, await master.ReadFloatAsync(Slave, 0, ModbusWordOrder.LowWordFirst, CancellationToken.None));
            Assert.Equal(2618f, await master.ReadFloatAsync(Slave, 2, ModbusWordOrder.LowWordFirst, CancellationToken.None));
            Assert.Equal(new[] { false, false, false, false }, await master.ReadCoilsAsync(Slave, 0, 4, CancellationToken.None));
            await master.WriteSingleCoilAsync(Slave, 3, true, CancellationToken.None);
            Assert.Equal(new[] { false, false, false, true }, await master.ReadCoilsAsync(Slave, 0, 4, CancellationToken.None));
            // pymodbus refuses a register it does not have with exception 02, as a transmitter does.
            var refused = await Assert.ThrowsAsync<ModbusExceptionResponse>(() => master.ReadHoldingRegistersAsync(Slave, 100, 2, CancellationToken.None));
            Assert.Equal(2, refused.ExceptionCode);
        }
        finally
        {
            File.Delete(script);
        }
    }

    // A pymodbus RTU master at 19200 8E1 against slave 240: reads, writes a coil, writes registers with function 16, and
    // sends two functions the slave does not implement (04, and 23 read/write multiple registers, a 17-byte frame).
    private const string PymodbusMaster = """
        import sys
        from pymodbus.client import ModbusSerialClient
        from pymodbus.framer.rtu_framer import ModbusRtuFramer
        from pymodbus.register_read_message import ReadWriteMultipleRegistersRequest
        client = ModbusSerialClient(sys.argv[1], framer=ModbusRtuFramer, baudrate=19200, bytesize=8, parity="E", stopbits=1, timeout=5)
        assert client.connect()
        def show(label, response):
            if response.isError():
                print(label, "exception", getattr(response, "exception_code", response), flush=True)
            else:
                print(label, "ok", list(getattr(response, "registers", None) or getattr(response, "bits", [])[:4]), flush=True)
        show("read", client.read_holding_registers(0, 2, slave=240))
        show("coil", client.write_coil(3, True, slave=240))
        show("coils", client.read_coils(0, 4, slave=240))
        show("write16", client.write_registers(10, [1, 2, 3], slave=240))
        show("readback", client.read_holding_registers(10, 3, slave=240))
        show("write16-unknown", client.write_registers(50, [7], slave=240))
        show("fn04", client.read_input_registers(0, 1, slave=240))
        request = ReadWriteMultipleRegistersRequest(read_address=0, read_count=1, write_address=10, write_registers=[9, 9, 9], unit=240)
        show("fn23", client.execute(request))
        client.close()
        """;

    /// <summary>
    /// Pins: the slave emulator frames requests of any length. Function 16 (a 15-byte request) is answered, functions it
    /// does not implement (04; 23, a 17-byte frame) are refused with exception 01, never dropped.
    /// </summary>
    [Fact]
    public async Task A_pymodbus_master_is_answered_or_refused_by_our_slave_emulator_at_8E1()
    {
        using var pair = await SocatPair.StartAsync();
        await using var device = StreamSerialLine.OpenPort(pair.DevicePort, EightE1);
        await using var emulator = new ModbusSlaveEmulator(device, Slave);
        emulator.SetFloat(0, -75f, ModbusWordOrder.LowWordFirst);
        foreach (var register in new ushort[] { 10, 11, 12 })
        {
            emulator.SetRegister(register, 0);
        }
        for (ushort coil = 0; coil < 4; coil++)
        {
            emulator.SetCoil(coil, false);
        }
        emulator.Start();
        var script = Path.Combine(Path.GetTempPath(), $"seccm-pymodbus-master-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(script, PtyParity + PymodbusMaster);
        try
        {
            using var master = ExternalTool.Start(ExternalTool.Require("python3"), [script, pair.HostPort]);
            Assert.True(master.WaitForExit(Hang), master.Output);
            var output = master.Output;
            Assert.True(master.Process.ExitCode == 0, output);
            Assert.True(output.Contains("read ok [0, 49814]", StringComparison.Ordinal), output); // -75.0f = 0xC2960000, low word first
            Assert.True(output.Contains("coil ok", StringComparison.Ordinal), output);
            Assert.True(output.Contains("coils ok [False, False, False, True]", StringComparison.Ordinal), output);
            Assert.True(output.Contains("write16 ok", StringComparison.Ordinal), output);
            Assert.True(output.Contains("readback ok [1, 2, 3]", StringComparison.Ordinal), output);
            Assert.True(output.Contains("write16-unknown exception 2", StringComparison.Ordinal), output);
            Assert.True(output.Contains("fn04 exception 1", StringComparison.Ordinal), output);
            Assert.True(output.Contains("fn23 exception 1", StringComparison.Ordinal), output);
            Assert.Equal(3, emulator.GetRegister(12));
            Assert.True(emulator.GetCoil(3));
        }
        finally
        {
            File.Delete(script);
        }
    }
}
