using Seccm.Devices.Emulators.MethodScript;
using Seccm.Devices.Serial;
using Seccm.Electrochemistry.Simulation;
using Seccm.TestSupport;

namespace Seccm.Devices.Tests.Emulators.MethodScript;

/// <summary>The emulator's bytes on the wire, read by a bare serial line rather than our driver.</summary>
public sealed class MethodScriptEmulatorTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static readonly Electrode Bare = new([], 1e-10);

    private static async Task<string> ReadAsync(ISerialLine host) => await host.ReadLineAsync(Wait, CancellationToken.None);

    [Fact]
    public async Task Commands_are_answered_byte_for_byte()
    {
        using var pair = await SocatPair.StartAsync();
        await using var host = StreamSerialLine.OpenPort(pair.HostPort, 230400);
        await using var emulator = new MethodScriptEmulator(StreamSerialLine.OpenPort(pair.DevicePort, 230400), () => Bare, realTime: false);
        emulator.Start();

        await host.WriteLineAsync("t", "\n", CancellationToken.None);
        Assert.Equal("t" + MethodScriptEmulator.FirmwareVersion, await ReadAsync(host));
        Assert.EndsWith("*", await ReadAsync(host), StringComparison.Ordinal);

        await host.WriteLineAsync("Z", "\n", CancellationToken.None);
        Assert.Equal("Z!0006", await ReadAsync(host));

        await host.WriteLineAsync("x", "\n", CancellationToken.None);
        Assert.Equal("x!0003", await ReadAsync(host));

        await host.WriteLineAsync("e\nvar c\nfrobnicate 3\n", "\n", CancellationToken.None);
        Assert.Equal("e", await ReadAsync(host));
        Assert.Equal("!0003: Line 2, Col 1", await ReadAsync(host));
        Assert.Equal("", await ReadAsync(host));
    }

    [Fact]
    public async Task A_hold_script_sends_a_loop_of_packages_and_ends_with_a_blank_line()
    {
        using var pair = await SocatPair.StartAsync();
        await using var host = StreamSerialLine.OpenPort(pair.HostPort, 230400);
        await using var emulator = new MethodScriptEmulator(StreamSerialLine.OpenPort(pair.DevicePort, 230400), () => Bare, realTime: false);
        emulator.Start();

        await host.WriteLineAsync("e\nvar c\nvar p\nset_range ba 1n\ncell_on\nmeas_loop_ca p c 1300m 100m 500m\npck_start\npck_add p\npck_add c\npck_end\nendloop\non_finished:\ncell_off\n", "\n", CancellationToken.None);
        Assert.Equal("e", await ReadAsync(host));
        Assert.Equal("M0007", await ReadAsync(host));
        for (var i = 0; i < 6; i++)
        {
            var package = await ReadAsync(host);
            // da = 1.3 V in micro: 0x8000000 + 1300000 = 0x813D620; the current carries status and range metadata.
            Assert.Matches("^Pda813D620u;ba[0-9A-F]{7}[afpnum ],10,280$", package);
        }
        Assert.Equal("*", await ReadAsync(host));
        Assert.Equal("", await ReadAsync(host));
        Assert.False(emulator.CellOn);
    }
}
