using Microsoft.Extensions.Time.Testing;
using Seccm.Devices.Emulators.Glovebox;
using Seccm.Devices.Modbus;
using Seccm.Devices.Serial;
using Seccm.Glovebox.Sensors;
using Seccm.Glovebox.Simulation;

namespace Seccm.Glovebox.Tests.Sensors;

public sealed class DeviceFactoryTests
{
    [Fact]
    public async Task Unknown_drivers_and_missing_ports_are_named_with_their_configuration_path()
    {
        await using var factory = new DeviceFactory(new GloveboxSimulation(new FakeTimeProvider()), TimeProvider.System);

        var ex = Assert.Throws<ArgumentException>(() => factory.CreateOxygenSensor(new DeviceOptions { Driver = "vaisala" }, "Glovebox:Oxygen:1"));
        Assert.Contains("Glovebox:Oxygen:1:Driver: unknown driver 'vaisala'; use one of simulated, rapidox, teledyne", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<ArgumentException>(() => factory.CreateMoistureSensor(new DeviceOptions { Driver = "modbus", SlaveAddress = 300 }, "Glovebox:Moisture:0"));
        Assert.Contains("Glovebox:Moisture:0:Port", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Glovebox:Moisture:0:SlaveAddress: 300", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_serial_port_names_the_port()
    {
        await using var factory = new DeviceFactory(new GloveboxSimulation(new FakeTimeProvider()), TimeProvider.System);
        var ex = Assert.Throws<Seccm.Devices.DeviceException>(() =>
            factory.CreateOxygenSensor(new DeviceOptions { Driver = "rapidox", Port = "/tmp/no-such-port-glovebox" }, "Glovebox:Oxygen:0"));
        Assert.Contains("/tmp/no-such-port-glovebox", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transmitter_and_the_pump_coil_on_one_RS485_bus_share_one_port()
    {
        await using var pair = await SerialPair.StartAsync(19200, openHost: false);
        await using var slave = new ModbusDewPointEmulator(pair.Device, 240, 0, 2, ModbusWordOrder.LowWordFirst);
        slave.SetCoil(3, false);
        slave.Start();
        var opened = 0;
        await using var factory = new DeviceFactory(new GloveboxSimulation(new FakeTimeProvider()), TimeProvider.System, (port, settings) =>
        {
            opened++;
            return StreamSerialLine.OpenPort(port, settings);
        });
        var bus = new DeviceOptions { Driver = "modbus", Port = pair.HostPort, BaudRate = 19200, Timeout = TimeSpan.FromSeconds(10) }; // the slave answers: no timeouts on a loaded machine
        var h2o = factory.CreateMoistureSensor(bus, "Glovebox:Moisture:0");
        var pump = factory.CreatePump(new DeviceOptions { Driver = "modbus-coil", Port = pair.HostPort, BaudRate = 19200, Coil = 3 }, "Glovebox:Pump");

        // Concurrent use must not interleave frames on the shared line.
        var reads = Enumerable.Range(0, 5).Select(_ => h2o.ReadAsync(CancellationToken.None).AsTask()).ToList();
        await pump.SetAsync(true, CancellationToken.None);
        foreach (var read in reads)
        {
            Assert.Equal(-75, (await read).DewPointC, 4);
        }
        Assert.True(slave.GetCoil(3));
        Assert.Equal(1, opened);

        var ex = Assert.Throws<ArgumentException>(() =>
            factory.CreateOxygenSensor(new DeviceOptions { Driver = "rapidox", Port = pair.HostPort, BaudRate = 9600 }, "Glovebox:Oxygen:0"));
        Assert.Contains("already open at 19200 8E1 baud", ex.Message, StringComparison.Ordinal);
    }
}
