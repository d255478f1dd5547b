using Seccm.Devices;
using Seccm.Devices.Emulators.MethodScript;
using Seccm.Potentiostat.Drivers;
using Seccm.Potentiostat.Drivers.MethodScript;

namespace Seccm.Potentiostat.Tests.Drivers.MethodScript;

public sealed class MethodScriptPotentiostatTests
{
    /// <summary>Hang detection only: a healthy run takes a fraction of this.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_version_reply_spans_two_lines_ending_in_a_star()
    {
        await using var pico = await EmulatedEmStat.StartAsync();
        var version = await pico.Driver.GetVersionAsync(CancellationToken.None).WaitAsync(Hang);
        Assert.StartsWith(MethodScriptEmulator.FirmwareVersion, version, StringComparison.Ordinal);
        Assert.DoesNotContain('*', version);
    }

    [Fact]
    public async Task A_multi_rate_cv_streams_every_sample_of_every_cycle_in_order()
    {
        await using var pico = await EmulatedEmStat.StartAsync();
        double[] rates = [1.25, 2.5, 5, 10, 20];
        var request = new CvRequest(1.2, 1.9, 1.2, 0.005, rates, 2, 1e-9);

        var chunks = new List<SampleChunk>();
        await foreach (var chunk in pico.Driver.RunCvAsync(request, CancellationToken.None).WithCancellation(CancellationToken.None))
        {
            chunks.Add(chunk);
        }

        // Per rate: 2 cycles x 280 steps + the final point; chunk indices are contiguous from 0.
        for (var r = 0; r < rates.Length; r++)
        {
            var ofRate = chunks.Where(c => c.RateIndex == r).ToList();
            Assert.All(ofRate, c => Assert.Equal(rates[r], c.ScanRateVPerS));
            Assert.Equal(2 * 280 + 1, ofRate.Sum(c => c.Count));
            var next = 0L;
            foreach (var c in ofRate)
            {
                Assert.Equal(next, c.FirstSampleIndex);
                next += c.Count;
            }
            Assert.Equal(280, ofRate.Where(c => c.Cycle == 0).Sum(c => c.Count));
            var potential = ofRate.SelectMany(c => c.PotentialV).ToArray();
            var time = ofRate.SelectMany(c => c.TimeS).ToArray();
            Assert.Equal(1.2, potential[0], 6);
            Assert.Equal(1.9, potential[140], 6);
            Assert.Equal(1.2, potential[280], 6);
            Assert.Equal(280 * 0.005 / rates[r], time[280], 9);
        }
        Assert.False(pico.Emulator.CellOn);

        // The currents are the simulator's: forward peak at E0 + 28.5 mV, growing like sqrt(v) (Randles-Sevcik).
        var peaks = rates.Select((_, r) => chunks.Where(c => c.RateIndex == r && c.Cycle == 0).SelectMany(c => c.CurrentA).Take(141).Max()).ToArray();
        for (var r = 1; r < rates.Length; r++)
        {
            Assert.Equal(Math.Sqrt(rates[r] / rates[0]), peaks[r] / peaks[0], 0.02);
        }
        Assert.Equal(3.2e-12, peaks[0], 0.2e-12);
    }

    [Fact]
    public async Task An_abort_stops_the_script_switches_the_cell_off_and_keeps_the_line_in_step()
    {
        await using var pico = await EmulatedEmStat.StartAsync(realTime: true, MethodScriptOptions.Default with { ChunkSize = 5 });
        // 0.05 V/s at 5 mV: 100 ms per sample, 28 s per cycle: far from done when the abort comes.
        var request = new CvRequest(1.2, 1.9, 1.2, 0.005, [0.05], 1, 1e-9);
        var received = 0;

        var ex = await Assert.ThrowsAsync<PotentiostatAbortedException>(async () =>
        {
            await foreach (var chunk in pico.Driver.RunCvAsync(request, CancellationToken.None))
            {
                received += chunk.Count;
                if (received == 5)
                {
                    await pico.Driver.AbortAsync(CancellationToken.None);
                }
            }
        }).WaitAsync(Hang);

        Assert.Contains(pico.HostPort, ex.Message, StringComparison.Ordinal);
        Assert.InRange(received, 5, 40);
        Assert.False(pico.Emulator.CellOn);
        // The next command is answered, not confused by leftovers of the aborted script.
        Assert.StartsWith(MethodScriptEmulator.FirmwareVersion, await pico.Driver.GetVersionAsync(CancellationToken.None).WaitAsync(Hang), StringComparison.Ordinal);
        // An abort with nothing running is fine ("Z!0006").
        await pico.Driver.AbortAsync(CancellationToken.None).WaitAsync(Hang);
    }

    [Fact]
    public async Task An_error_reply_becomes_a_typed_error_with_code_meaning_and_port()
    {
        await using var pico = await EmulatedEmStat.StartAsync();
        pico.Emulator.Fault = MethodScriptFault.ErrorReply;
        pico.Emulator.ErrorCode = 0x4205;

        var ex = await Assert.ThrowsAsync<MethodScriptException>(async () =>
        {
            await foreach (var _ in pico.Driver.RunHoldAsync(new HoldRequest(1.3, 0.01, 1, 1e-9), CancellationToken.None))
            {
            }
        }).WaitAsync(Hang);

        Assert.Equal(0x4205, ex.Code);
        Assert.Equal("not supported by this device", ex.Meaning);
        Assert.Equal(1, ex.ScriptLine);
        Assert.Contains(pico.HostPort, ex.Message, StringComparison.Ordinal);
        Assert.Contains("4205", ex.Message, StringComparison.Ordinal);

        // The device recovers: the same driver works once the fault is gone.
        pico.Emulator.Fault = MethodScriptFault.None;
        var samples = 0;
        await foreach (var chunk in pico.Driver.RunHoldAsync(new HoldRequest(1.3, 0.01, 1, 1e-9), CancellationToken.None))
        {
            samples += chunk.Count;
            Assert.Equal(1, chunk.Count); // hold samples are not held back: contact is seen within one interval
            Assert.All(chunk.PotentialV, p => Assert.Equal(1.3, p, 6));
        }
        Assert.Equal(101, samples);
    }

    [Fact]
    public async Task A_silent_device_times_out_with_the_port_in_the_message()
    {
        await using var pico = await EmulatedEmStat.StartAsync(options: MethodScriptOptions.Default with { ResponseTimeout = TimeSpan.FromMilliseconds(300) });
        pico.Emulator.Fault = MethodScriptFault.Silent;

        var ex = await Assert.ThrowsAsync<DeviceTimeoutException>(async () =>
        {
            await foreach (var _ in pico.Driver.RunCvAsync(new CvRequest(1.2, 1.9, 1.2, 0.005, [1], 1, 1e-9), CancellationToken.None))
            {
            }
        }).WaitAsync(Hang);
        Assert.Contains(pico.HostPort, ex.Message, StringComparison.Ordinal);

        await Assert.ThrowsAsync<DeviceTimeoutException>(() => pico.Driver.GetVersionAsync(CancellationToken.None)).WaitAsync(Hang);
    }

    [Fact]
    public async Task Garbage_from_the_device_is_a_protocol_error_not_a_crash()
    {
        await using var pico = await EmulatedEmStat.StartAsync();
        pico.Emulator.Fault = MethodScriptFault.Garbage;

        var ex = await Assert.ThrowsAsync<DeviceProtocolException>(async () =>
        {
            await foreach (var _ in pico.Driver.RunCvAsync(new CvRequest(1.2, 1.9, 1.2, 0.005, [1], 1, 1e-9), CancellationToken.None))
            {
            }
        }).WaitAsync(Hang);
        Assert.Contains(pico.HostPort, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_outside_the_device_limits_are_refused_before_anything_is_sent()
    {
        await using var pico = await EmulatedEmStat.StartAsync();
        var ex = Assert.Throws<ArgumentException>(() => pico.Driver.RunCvAsync(new CvRequest(1.2, 9, 1.2, 0.005, [100], 1, 3e-9), CancellationToken.None));
        Assert.Contains("vertex1PotentialV 9", ex.Message, StringComparison.Ordinal);
        Assert.Contains("scanRatesVPerS[0] 100", ex.Message, StringComparison.Ordinal);
        Assert.Contains("currentRangeA", ex.Message, StringComparison.Ordinal);
        Assert.Empty(pico.Emulator.LastScript);
    }

    [Fact]
    public async Task Cell_on_and_off_run_tiny_scripts()
    {
        await using var pico = await EmulatedEmStat.StartAsync();
        await pico.Driver.SetCellAsync(true, CancellationToken.None).WaitAsync(Hang);
        Assert.True(pico.Emulator.CellOn);
        await pico.Driver.SetCellAsync(false, CancellationToken.None).WaitAsync(Hang);
        Assert.False(pico.Emulator.CellOn);
    }
}
