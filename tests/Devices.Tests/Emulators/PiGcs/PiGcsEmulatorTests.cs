using System.Text;
using Microsoft.Extensions.Time.Testing;
using Seccm.Devices.Emulators.PiGcs;
using Seccm.Devices.Serial;
using Seccm.TestSupport;

namespace Seccm.Devices.Tests.Emulators.PiGcs;

/// <summary>The emulator's bytes on the wire, read raw from the host end of a socat pair.</summary>
public sealed class PiGcsEmulatorTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new();
    private SocatPair _pair = null!;
    private StreamSerialLine _host = null!;
    private PiGcsEmulator _emulator = null!;

    public async Task InitializeAsync()
    {
        _pair = await SocatPair.StartAsync();
        _host = StreamSerialLine.OpenPort(_pair.HostPort, 115200);
        _emulator = new PiGcsEmulator(StreamSerialLine.OpenPort(_pair.DevicePort, 115200), _time).Start();
    }

    public async Task DisposeAsync()
    {
        await _emulator.DisposeAsync();
        await _host.DisposeAsync();
        _pair.Dispose();
    }

    private async Task<string> RawAsync(string text, int lines = 1)
    {
        await _host.WriteAsync(Encoding.ASCII.GetBytes(text), CancellationToken.None);
        var sb = new StringBuilder();
        for (var i = 0; i < lines; i++)
        {
            sb.Append(await _host.ReadLineAsync(Wait, CancellationToken.None)).Append('\n');
        }
        return sb.ToString();
    }

    [Fact]
    public async Task Multi_line_answers_end_every_line_but_the_last_with_a_space()
    {
        Assert.Equal("1=50.0 \n2=50.0 \n3=60.0\n", await RawAsync("POS?\n", 3));
        Assert.Equal("2=0.0\n", await RawAsync("TMN? 2\n"));
        Assert.Equal("3=60.0\n", await RawAsync("TMX? 3\n"));
    }

    [Fact]
    public async Task Moves_run_at_the_set_velocity_and_report_on_target()
    {
        Assert.Equal("0\n", await RawAsync("SVO 1 1\nVEL 1 10\nMOV 1 70\nERR?\n"));
        Assert.Equal("1=0\n", await RawAsync("ONT? 1\n"));
        Assert.Equal("1\n", await RawAsync("\u0005"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("1=60.0\n", await RawAsync("POS? 1\n"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("1=70.0\n1=1\n0\n", await RawAsync("POS? 1\nONT? 1\n\u0005", 3));
    }

    [Fact]
    public async Task The_error_register_holds_the_last_error_until_ERR_reads_it()
    {
        Assert.Equal("5\n0\n", await RawAsync("MOV 1 10\nERR?\nERR?\n", 2));
        Assert.Equal("2\n", await RawAsync("FOO 1\nERR?\n"));
        Assert.Equal("7\n", await RawAsync("SVO 1 1\nMOV 1 100.5\nERR?\n"));
        Assert.Equal("8\n", await RawAsync("VEL 1 0\nERR?\n"));
        Assert.Equal("15\n", await RawAsync("MOV 9 1\nERR?\n"));
        Assert.Equal("24\n", await RawAsync("MOV 1\nERR?\n"));
        Assert.Equal("25\n", await RawAsync("MOV 1 abc\nERR?\n"));
        Assert.Equal("26\n", await RawAsync("MOV\nERR?\n"));
        Assert.Equal("17\n", await RawAsync("SVO 1 2\nERR?\n"));
        Assert.Equal("10\n", await RawAsync("STP\nERR?\n"));
    }

    [Fact]
    public async Task Stop_all_byte_halts_motion_where_it_is()
    {
        await RawAsync("SVO 3 1\nVEL 3 5\nMOV 3 10\nERR?\n");
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("10\n", await RawAsync("\u0018ERR?\n"));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("3=50.0\n", await RawAsync("POS? 3\n"));
    }

    [Fact]
    public async Task Ready_answers_0xB1_or_0xB0_then_LF()
    {
        await _host.WriteAsync(new byte[] { 0x07 }, CancellationToken.None);
        Assert.Equal(new byte[] { 0xB1, 0x0A }, await _host.ReadBytesAsync(2, Wait, CancellationToken.None));
        _emulator.Busy = true;
        await _host.WriteAsync(new byte[] { 0x07 }, CancellationToken.None);
        Assert.Equal(new byte[] { 0xB0, 0x0A }, await _host.ReadBytesAsync(2, Wait, CancellationToken.None));
    }

    [Fact]
    public async Task A_query_for_an_unknown_axis_answers_nothing_and_sets_error_15()
    {
        Assert.Equal("15\n", await RawAsync("POS? 7\nERR?\n"));
    }

    [Fact]
    public async Task Fault_knobs_silence_the_device_and_garble_an_answer()
    {
        _emulator.GarbleNextAnswers();
        Assert.Equal("#!g@rbl~d=?\n", await RawAsync("ERR?\n"));
        Assert.Equal("0\n", await RawAsync("ERR?\n"));
        _emulator.Silent = true;
        await _host.WriteAsync(Encoding.ASCII.GetBytes("ERR?\n"), CancellationToken.None);
        await Assert.ThrowsAsync<DeviceTimeoutException>(async () => await _host.ReadLineAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None));
    }

    [Fact]
    public async Task Stop_answering_for_a_while_ignores_commands_then_answers_again_on_the_emulator_clock()
    {
        _emulator.StopAnsweringFor(TimeSpan.FromSeconds(5));
        await _host.WriteAsync(Encoding.ASCII.GetBytes("SVO 1 1\nERR?\n"), CancellationToken.None);
        await Assert.ThrowsAsync<DeviceTimeoutException>(async () => await _host.ReadLineAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None));
        Assert.True(_emulator.IsSilent);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(_emulator.IsSilent);
        // The command sent while silent was never executed: the servo is still off.
        Assert.Equal("1=0\n", await RawAsync("SVO? 1\n"));
        Assert.Contains("SVO 1 1", _emulator.ReceivedCommands);
    }

    [Fact]
    public async Task Garbling_for_a_while_replaces_every_nth_answer_until_the_time_is_up()
    {
        _emulator.GarbleAnswersFor(TimeSpan.FromSeconds(2), everyNth: 2);
        Assert.Equal("0\n", await RawAsync("ERR?\n"));
        Assert.Equal("#!g@rbl~d=?\n", await RawAsync("ERR?\n"));
        Assert.Equal("0\n", await RawAsync("ERR?\n"));
        Assert.Equal("#!g@rbl~d=?\n", await RawAsync("ERR?\n"));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("0\n0\n", await RawAsync("ERR?\nERR?\n", 2));
        Assert.Equal(2, _emulator.GarbledAnswers);
    }
}
