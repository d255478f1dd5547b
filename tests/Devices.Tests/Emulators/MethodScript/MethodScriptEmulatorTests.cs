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
            // Range metadata is the EmStat4's code for 1 nA (3), from PalmSens' parser's table.
            Assert.Matches("^Pda813D620u;ba[0-9A-F]{7}[afpnum ],10,203$", package);
        }
        Assert.Equal("*", await ReadAsync(host));
        Assert.Equal("", await ReadAsync(host));
        Assert.False(emulator.CellOn);
    }

    [Fact]
    public async Task A_cp_script_sends_measured_potentials_and_stops_each_loop_at_its_cut_off()
    {
        // A bare 1 nF double layer: 1 nA charges it by 0.1 V per 100 ms sample, -1.5 nA discharges it by 0.15 V.
        var capacitor = new Electrode([], 1e-10, DoubleLayerF: 1e-9);
        using var pair = await SocatPair.StartAsync();
        await using var host = StreamSerialLine.OpenPort(pair.HostPort, 230400);
        await using var emulator = new MethodScriptEmulator(StreamSerialLine.OpenPort(pair.DevicePort, 230400), () => capacitor, realTime: false);
        emulator.Start();

        await host.WriteLineAsync(string.Join('\n',
            "e", "var c", "var p", "set_range ba 10n", "cell_on",
            "meas_loop_cp p c 1n 100m 2", "pck_start", "pck_add p", "pck_add c", "pck_end", "if p >= 420m", "breakloop", "endif", "endloop",
            "meas_loop_cp p c -1500p 100m 2", "pck_start", "pck_add p", "pck_add c", "pck_end", "if p <= 60m", "breakloop", "endif", "endloop",
            "on_finished:", "cell_off", ""), "\n", CancellationToken.None);

        Assert.Equal("e", await ReadAsync(host));
        // The film rests at the lowest cut-off (60 mV); the charge runs 0.16, 0.26, 0.36, 0.46 V and stops past 0.42 V.
        var charge = await ReadLoopAsync(host, 1e-9);
        Assert.Equal([0.16, 0.26, 0.36, 0.46], charge.Select(p => Math.Round(p, 6)));
        // The discharge falls from there until the first package at or below 60 mV, which is its last.
        var discharge = await ReadLoopAsync(host, -1.5e-9);
        Assert.True(discharge.Count >= 2, string.Join(", ", discharge));
        Assert.All(discharge.Zip(discharge.Skip(1)), pair => Assert.True(pair.Second < pair.First));
        Assert.All(discharge[..^1], p => Assert.True(p > 0.06, $"{p} V is past the cut-off but the loop went on"));
        Assert.True(discharge[^1] <= 0.06);
        Assert.Equal("", await ReadAsync(host));
        Assert.False(emulator.CellOn);
    }

    [Theory]
    [InlineData(40)]
    [InlineData(0)]
    public async Task A_hold_sees_the_meniscus_touch_down_at_the_sample_it_happens_and_follows_cottrell_from_there(int contactSample)
    {
        // An LTO grain under a 55 nm pipette (PHYSICS.md), wetted from sample 40 on (the loop's start and samples 1-39 are
        // dry, as when an approach's stage brings the meniscus down) or from the loop's start (the potential steps from
        // the spot's open circuit at sample 0).
        const double d = 2.47e-11, c = 0.0227, area = Math.PI * 55e-7 * 55e-7, interval = 1e-3;
        var lto = new Electrode([new RedoxCouple(E0V: 1.55, K0CmPerS: 1, Alpha: 0.5, DCm2PerS: d, ConcentrationMolCm3: c)], area);
        var readings = 0;
        using var pair = await SocatPair.StartAsync();
        await using var host = StreamSerialLine.OpenPort(pair.HostPort, 230400);
        await using var emulator = new MethodScriptEmulator(StreamSerialLine.OpenPort(pair.DevicePort, 230400),
            () => ++readings > contactSample ? lto : Bare, realTime: false);
        emulator.Start();

        await host.WriteLineAsync("e\nvar c\nvar p\nset_range ba 1n\ncell_on\nmeas_loop_ca p c 1300m 1m 100m\npck_start\npck_add p\npck_add c\npck_end\nendloop\non_finished:\ncell_off\n", "\n", CancellationToken.None);
        Assert.Equal("e", await ReadAsync(host));
        Assert.Equal("M0007", await ReadAsync(host));
        var currents = new List<double>();
        for (var line = await ReadAsync(host); line != "*"; line = await ReadAsync(host))
        {
            var match = System.Text.RegularExpressions.Regex.Match(line, "^Pda813D620u;ba([0-9A-F]{7})([afpnum ]),1[0-9A-F],2[0-9A-F]{2}$");
            Assert.True(match.Success, line);
            var prefix = match.Groups[2].Value[0] switch { 'a' => 1e-18, 'f' => 1e-15, 'p' => 1e-12, 'n' => 1e-9, 'u' => 1e-6, _ => 1e-3 };
            currents.Add((Convert.ToInt64(match.Groups[1].Value, 16) - 0x8000000) * prefix);
        }
        Assert.Equal("", await ReadAsync(host));
        Assert.Equal(101, currents.Count);
        Assert.All(currents[..contactSample], i => Assert.True(Math.Abs(i) < 1e-15, $"{i} A before contact"));
        // Cottrell (n = 1, planar, diffusion-limited 250 mV past E0): |i| = F A c sqrt(D / (pi t)), t from the step: the
        // loop's sample 0, or the interval before the sample that first sees the contact.
        const double faraday = 96485.33212;
        for (var j = 4; j < 61; j++)
        {
            var t = (j + (contactSample > 0 ? 1 : 0)) * interval;
            var cottrell = faraday * area * c * Math.Sqrt(d / (Math.PI * t));
            var current = currents[contactSample + j];
            Assert.True(Math.Abs(Math.Abs(current) - cottrell) < 0.05 * cottrell,
                $"sample {contactSample + j}: {current:E3} A, Cottrell {cottrell:E3} A at {t} s after the step");
        }
    }

    /// <summary>Reads one measurement loop ('M', packages, '*'): the measured potentials (ab), checking each current (ba).</summary>
    private static async Task<List<double>> ReadLoopAsync(ISerialLine host, double currentA)
    {
        Assert.StartsWith("M", await ReadAsync(host), StringComparison.Ordinal);
        var potentials = new List<double>();
        for (var line = await ReadAsync(host); line != "*"; line = await ReadAsync(host))
        {
            var match = System.Text.RegularExpressions.Regex.Match(line, "^Pab([0-9A-F]{7})u;db([0-9A-F]{7})([afpnum ]),10,206$");
            Assert.True(match.Success, line);
            potentials.Add((Convert.ToInt64(match.Groups[1].Value, 16) - 0x8000000) * 1e-6);
            var prefix = match.Groups[3].Value[0] switch { 'a' => 1e-18, 'f' => 1e-15, 'p' => 1e-12, 'n' => 1e-9, 'u' => 1e-6, _ => 1e-3 };
            Assert.Equal(currentA, (Convert.ToInt64(match.Groups[2].Value, 16) - 0x8000000) * prefix, 1e-15);
            Assert.True(potentials.Count < 100, "the loop did not stop at its cut-off");
        }
        return potentials;
    }
}
