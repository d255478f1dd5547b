using System.Globalization;
using Seccm.Devices.Emulators.Glovebox;
using Seccm.Devices.Modbus;
using Seccm.Devices.Serial;
using Seccm.TestSupport;

namespace Seccm.Devices.Tests.Emulators.Glovebox;

/// <summary>The emulators speak the documented byte protocols, seen from raw host-side bytes over socat.</summary>
public sealed class GloveboxEmulatorTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private static readonly CancellationToken None = CancellationToken.None;
    private SocatPair _pair = null!;
    private StreamSerialLine _host = null!;
    private StreamSerialLine _device = null!;

    public async Task InitializeAsync()
    {
        _pair = await SocatPair.StartAsync();
        _host = StreamSerialLine.OpenPort(_pair.HostPort, 9600);
        _device = StreamSerialLine.OpenPort(_pair.DevicePort, 9600);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _device.DisposeAsync();
        _pair.Dispose();
    }

    [Fact]
    public async Task Rapidox_answers_D_with_ppm_first_and_garbles_on_request()
    {
        await using var emulator = new RapidoxOxygenEmulator(_device) { O2Ppm = 295900 };
        emulator.Start();

        await _host.WriteLineAsync("D", "\r", None);
        var line = await _host.ReadLineAsync(Wait, None);
        Assert.StartsWith("d2.959E+05,", line, StringComparison.Ordinal);

        emulator.Faults.GarbledAnswers = 1;
        await _host.WriteLineAsync("D", "\r", None);
        Assert.False(double.TryParse((await _host.ReadLineAsync(Wait, None))[1..].Split(',')[0], CultureInfo.InvariantCulture, out _));

        await _host.WriteLineAsync("X", "\r", None);
        Assert.Equal("?", await _host.ReadLineAsync(Wait, None));
    }

    [Fact]
    public async Task Teledyne_streams_lines_without_being_asked_and_can_fall_silent()
    {
        await using var emulator = new TeledyneOxygenEmulator(_device) { O2Ppm = 0.85, Interval = TimeSpan.FromMilliseconds(50) };
        emulator.Start();

        Assert.Equal("ST, 0.85 PPM, 0", await _host.ReadLineAsync(Wait, None));
        emulator.Faults.Silent = true;
        await Task.Delay(150);
        _host.DiscardInput();
        await Assert.ThrowsAsync<DeviceTimeoutException>(async () => await _host.ReadLineAsync(TimeSpan.FromMilliseconds(300), None));
    }

    [Fact]
    public async Task Vaisala_answers_SEND_with_frost_point_and_ppm()
    {
        await using var emulator = new VaisalaDewPointEmulator(_device) { DewPointC = -75.3, H2oPpm = 1.12 };
        emulator.Start();

        await _host.WriteLineAsync("SEND", "\r", None);
        Assert.Equal("Tdf= -75.30 'C Tdfatm= -75.30 'C H2O=    1.12 ppm", await _host.ReadLineAsync(Wait, None));
    }

    [Fact]
    public async Task Relay_board_switches_reports_and_refuses_bad_relays()
    {
        await using var emulator = new RelayBoardEmulator(_device, relayCount: 2);
        emulator.Start();

        await _host.WriteLineAsync("R2 ON", "\r", None);
        Assert.Equal("OK", await _host.ReadLineAsync(Wait, None));
        Assert.True(emulator.IsOn(2));
        await _host.WriteLineAsync("R2?", "\r", None);
        Assert.Equal("R2 ON", await _host.ReadLineAsync(Wait, None));
        await _host.WriteLineAsync("R3 ON", "\r", None);
        Assert.StartsWith("ERR relay 3 out of range", await _host.ReadLineAsync(Wait, None), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Modbus_dew_point_transmitter_serves_floats_and_ignores_other_addresses()
    {
        await using var emulator = new ModbusDewPointEmulator(_device, 240, 0, 2, ModbusWordOrder.LowWordFirst);
        emulator.Set(-74.5, 1.25);
        emulator.Start();

        await _host.WriteAsync(ModbusFrame.ReadHoldingRegisters(17, 0, 4), None);
        await Assert.ThrowsAsync<DeviceTimeoutException>(async () => await _host.ReadBytesAsync(1, TimeSpan.FromMilliseconds(300), None));

        await _host.WriteAsync(ModbusFrame.ReadHoldingRegisters(240, 0, 4), None);
        var answer = await _host.ReadBytesAsync(3 + 8 + 2, Wait, None);
        Assert.True(ModbusCrc.IsValid(answer));
        var registers = ModbusFrame.DecodeRegisters(answer);
        Assert.Equal(-74.5f, ModbusFloat.Decode(registers[0], registers[1], ModbusWordOrder.LowWordFirst));
        Assert.Equal(1.25f, ModbusFloat.Decode(registers[2], registers[3], ModbusWordOrder.LowWordFirst));
    }
}
