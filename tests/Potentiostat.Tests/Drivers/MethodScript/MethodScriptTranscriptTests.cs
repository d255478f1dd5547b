using System.Text;
using Seccm.Devices;
using Seccm.Devices.Emulators.MethodScript;
using Seccm.Devices.Serial;
using Seccm.Potentiostat.Drivers;
using Seccm.Potentiostat.Drivers.MethodScript;
using Seccm.TestSupport;

namespace Seccm.Potentiostat.Tests.Drivers.MethodScript;

/// <summary>
/// The driver against replies shaped as PalmSens documents them and as its own parsers (MethodSCRIPT_Examples'
/// mscript.py / mscript.c) read them, sent verbatim by a scripted device on a socat pair. Each test names the behaviour
/// it pins.
/// </summary>
public sealed class MethodScriptTranscriptTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);
    private static readonly CvRequest ThreeScans = new(0, 0.5, -0.5, 0.01, [0.1], 3, 1e-6);

    /// <summary>Pins: nscans(3) sends 'C' + 4 hex digits before each scan and '-' after each, the last included; scan n is cycle n.</summary>
    [Fact]
    public async Task A_cv_of_three_scans_reads_each_C_to_minus_block_as_one_cycle()
    {
        var chunks = await RunCvAsync(3,
            "e", "M0000",
            "C0000", "Pda8000000 ;ba8000100p,10,20C", "Pda8007A12u;ba8000200p,10,20C", "-",
            "C0000", "Pda8000000 ;ba8000300p,10,20C", "-",
            "C0000", "Pda8000000 ;ba8000400p,10,20C", "Pda8007A12u;ba8000500p,10,20C", "-",
            "*", "");

        Assert.Equal([0, 0, 1, 2, 2], chunks.SelectMany(c => Enumerable.Repeat(c.Cycle, c.Count)).ToArray());
        Assert.Equal([256e-12, 512e-12, 768e-12, 1024e-12, 1280e-12], chunks.SelectMany(c => c.CurrentA).ToArray());
        Assert.Equal([0L, 2, 3], chunks.Select(c => c.FirstSampleIndex).ToArray());
        Assert.All(chunks, c => Assert.Equal(SampleFlags.None, c.Flags));
    }

    /// <summary>Pins: a value the device cannot measure is the text "nan", space-padded: a NaN sample marked, not a broken line.</summary>
    [Fact]
    public async Task A_nan_value_is_a_marked_nan_sample_not_a_parse_error()
    {
        var chunks = await RunCvAsync(1, "e", "M0000", "Pda8000000 ;ba     nan,10,20C", "Pda8007A12u;ba8000200p,10,20C", "*", "");

        var current = chunks.SelectMany(c => c.CurrentA).ToArray();
        Assert.True(double.IsNaN(current[0]));
        Assert.Equal(512e-12, current[1]);
        Assert.Equal(SampleFlags.NotANumber, chunks.Aggregate(SampleFlags.None, (f, c) => f | c.Flags));
    }

    /// <summary>Pins: status metadata 1X bits 0x2 overload, 0x4 underload and 0x1 timing error mark the chunk (a clipped current is not taken as good).</summary>
    [Theory]
    [InlineData("12", SampleFlags.Overload)]
    [InlineData("14", SampleFlags.Underload)]
    [InlineData("11", SampleFlags.TimingError)]
    [InlineData("16", SampleFlags.Overload | SampleFlags.Underload)]
    public async Task Status_bits_mark_the_chunk(string status, SampleFlags expected)
    {
        var chunks = await RunCvAsync(1, "e", "M0000", "Pda8000000 ;ba8000100p,10,20C", $"Pda8007A12u;ba8FFFFFFp,{status},20C", "*", "");

        Assert.Equal(expected, chunks.Aggregate(SampleFlags.None, (f, c) => f | c.Flags));
        Assert.Equal(expected.ToNames(), chunks.Single().Flags.ToNames());
    }

    /// <summary>Pins: the end-of-scope markers must match the open scope ('-' a scan, '*' a measurement loop, '+' a plain loop), as the vendor parser checks.</summary>
    [Fact]
    public async Task An_end_marker_that_does_not_match_the_open_scope_is_a_protocol_error()
    {
        var ex = await Assert.ThrowsAsync<DeviceProtocolException>(() =>
            RunCvAsync(1, "e", "M0000", "Pda8000000 ;ba8000100p,10,20C", "+", "*", ""));
        Assert.Contains("'+' (the end of a loop)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("a measurement loop was open", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Pins: a plain loop ('L' ... '+') inside a script is valid grammar, not "not a MethodSCRIPT reply".</summary>
    [Fact]
    public async Task A_plain_loop_around_a_measurement_loop_is_read()
    {
        var chunks = await RunCvAsync(1, "e", "L", "M0000", "Pda8000000 ;ba8000100p,10,20C", "*", "+", "");
        Assert.Equal(1, chunks.Sum(c => c.Count));
    }

    /// <summary>
    /// Pins: the version reply names the family (PalmSens' instrument.py maps "espico" to EmStat Pico, "es4_lr" to EmStat4 LR);
    /// a device of another family than configured is refused at start, and the identified family's limits apply.
    /// </summary>
    [Fact]
    public async Task The_version_reply_decides_the_family_and_a_mismatch_is_refused()
    {
        await using (var pico = await EmulatedEmStat.StartAsync(device: MethodScriptDevice.EmStatPico))
        {
            var ex = await Assert.ThrowsAsync<DeviceException>(() => pico.Driver.GetVersionAsync(CancellationToken.None).WaitAsync(Hang));
            Assert.Contains("is an EmStat Pico", ex.Message, StringComparison.Ordinal);
            Assert.Contains("set it to emstat-pico", ex.Message, StringComparison.Ordinal);
        }
        await using (var pico = await EmulatedEmStat.StartAsync(device: MethodScriptDevice.EmStatPico,
                         options: MethodScriptOptions.Default with { Family = MethodScriptFamily.EmStatPico, ChunkSize = 64 }))
        {
            Assert.StartsWith(MethodScriptEmulator.PicoFirmwareVersion, await pico.Driver.GetVersionAsync(CancellationToken.None).WaitAsync(Hang), StringComparison.Ordinal);
            Assert.Same(MethodScriptFamily.EmStatPico, pico.Driver.Family);
            // The Pico has no 1 nA range and no galvanostatic mode: both refused before anything is sent.
            Assert.Throws<ArgumentException>(() => pico.Driver.RunCvAsync(new CvRequest(0, 0.5, -0.5, 0.01, [0.1], 1, 1e-9), CancellationToken.None));
            Assert.Throws<ArgumentException>(() => pico.Driver.RunChargeDischargeAsync(
                new ChargeDischargeRequest(1e-6, 1e-6, 1.9, 1.0, 1, 1, 10, 1e-6), CancellationToken.None));
        }
        await using var es4 = await EmulatedEmStat.StartAsync();
        Assert.StartsWith("es4_lr", await es4.Driver.GetVersionAsync(CancellationToken.None).WaitAsync(Hang), StringComparison.Ordinal);
        Assert.Same(MethodScriptFamily.EmStat4Lr, es4.Driver.Family);
    }

    /// <summary>Pins the vendors' default lines: EmStat Pico 230400, EmStat4 921600 (MethodSCRIPT_Examples' serialport.py guess_baudrate).</summary>
    [Fact]
    public void Each_family_has_its_vendor_baud_rate()
    {
        Assert.Equal(230400, MethodScriptFamily.EmStatPico.DefaultLine.BaudRate);
        Assert.Equal(921600, MethodScriptFamily.EmStat4Lr.DefaultLine.BaudRate);
        Assert.Equal(921600, MethodScriptFamily.EmStat4Hr.DefaultLine.BaudRate);
        Assert.Equal("921600 8N1", MethodScriptFamily.EmStat4Lr.DefaultLine.ToString());
    }

    /// <summary>Runs a CV of <paramref name="cycles"/> scans against a device that answers the script with <paramref name="transcript"/>, one line each.</summary>
    private static async Task<List<SampleChunk>> RunCvAsync(int cycles, params string[] transcript)
    {
        using var pair = await SocatPair.StartAsync();
        await using var device = StreamSerialLine.OpenPort(pair.DevicePort, MethodScriptFamily.EmStat4Lr.DefaultLine);
        await using var driver = MethodScriptPotentiostat.Open(pair.HostPort, MethodScriptFamily.EmStat4Lr.DefaultLine,
            MethodScriptOptions.Default with { ChunkSize = 1000 }, TimeProvider.System);
        var answered = AnswerScriptAsync(device, transcript);
        var chunks = new List<SampleChunk>();
        try
        {
            await foreach (var chunk in driver.RunCvAsync(ThreeScans with { Cycles = cycles }, CancellationToken.None).WithCancellation(CancellationToken.None))
            {
                chunks.Add(chunk);
            }
        }
        finally
        {
            await answered.WaitAsync(Hang);
        }
        return chunks;
    }

    /// <summary>Reads 'e', the script and its blank line, then sends the transcript (which starts with the 'e' echo).</summary>
    private static async Task AnswerScriptAsync(StreamSerialLine device, string[] transcript)
    {
        Assert.Equal("e", await device.ReadLineAsync(Hang, CancellationToken.None));
        while ((await device.ReadLineAsync(Hang, CancellationToken.None)).Length > 0)
        {
        }
        var text = new StringBuilder();
        foreach (var line in transcript)
        {
            text.Append(line).Append('\n');
        }
        await device.WriteAsync(Encoding.ASCII.GetBytes(text.ToString()), CancellationToken.None);
    }
}
