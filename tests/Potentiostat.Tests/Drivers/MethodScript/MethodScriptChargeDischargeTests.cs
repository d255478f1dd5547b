using Seccm.Devices.Emulators.MethodScript;
using Seccm.Electrochemistry.Simulation;
using Seccm.Potentiostat.Drivers;
using Seccm.Potentiostat.Drivers.MethodScript;
using Xunit.Abstractions;

namespace Seccm.Potentiostat.Tests.Drivers.MethodScript;

/// <summary>
/// Galvanostatic charge/discharge through the whole device path: driver, meas_loop_cp script, socat, the emulator
/// running the script on our galvanostatic simulator, 'ab' packages back. The paper's experiment: the thin LTO film
/// under a 5 um pipette, charged at 10 pA to 2.1 V and discharged twice as fast to 1.0 V.
/// </summary>
public sealed class MethodScriptChargeDischargeTests(ITestOutputHelper output)
{
    /// <summary>Hang detection only: a healthy run takes a fraction of this.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(120);

    private static ChargeDischargeRequest Paper(int cycles, double maxDurationS = 3600) =>
        new(ChargeCurrentA: 10e-12, DischargeCurrentA: 20e-12, UpperCutoffV: 2.1, LowerCutoffV: 1.0, Cycles: cycles, IntervalS: 1,
            MaxDurationS: maxDurationS, CurrentRangeA: 1e-9);

    /// <summary>The same experiment on the simulator directly, without device or driver.</summary>
    private static ChargeDischargeResult Direct(ChargeDischargeRequest request) =>
        ChargeDischargeSimulator.Run(EmulatedEmStat.LtoFilm, new GalvanostaticProtocol(request.ChargeCurrentA, request.LowerCutoffV, request.UpperCutoffV,
            request.IntervalS, request.Cycles, request.MaxDurationS, request.DischargeCurrentA));

    private static async Task<List<SampleChunk>> RunAsync(MethodScriptPotentiostat driver, ChargeDischargeRequest request)
    {
        var chunks = new List<SampleChunk>();
        await foreach (var chunk in driver.RunChargeDischargeAsync(request, CancellationToken.None))
        {
            chunks.Add(chunk);
        }
        return chunks;
    }

    /// <summary>One half-cycle rebuilt from its chunks.</summary>
    private static (double[] TimeS, double[] PotentialV, double[] CurrentA) Half(List<SampleChunk> chunks, int halfCycle)
    {
        var of = chunks.Where(c => c.RateIndex == halfCycle).ToList();
        return ([.. of.SelectMany(c => c.TimeS)], [.. of.SelectMany(c => c.PotentialV)], [.. of.SelectMany(c => c.CurrentA)]);
    }

    /// <summary>Charge passed: each sample's current over the interval ending at its time, from t = 0.</summary>
    private static double ChargeC(double[] timeS, double[] currentA)
    {
        double q = 0, previous = 0;
        for (var k = 0; k < timeS.Length; k++)
        {
            q += Math.Abs(currentA[k]) * (timeS[k] - previous);
            previous = timeS[k];
        }
        return q;
    }

    /// <summary>Potential halfway through the half-cycle's charge: the two-phase plateau.</summary>
    private static double PlateauV(double[] timeS, double[] potentialV) => potentialV[Array.FindIndex(timeS, t => t >= timeS[^1] / 2)];

    [Fact]
    public async Task Two_cycles_on_the_thin_lto_film_plateau_at_1_55_V_stop_at_the_cut_offs_and_match_the_simulator()
    {
        await using var pico = await EmulatedEmStat.StartAsync(options: MethodScriptOptions.Default with { ChunkSize = 256 }, electrode: EmulatedEmStat.LtoFilm);
        var request = Paper(cycles: 2);

        var chunks = await RunAsync(pico.Driver, request).WaitAsync(Hang);
        var direct = Direct(request);

        // Four measurement loops: charge, discharge, charge, discharge, numbered as the simulated potentiostat does.
        Assert.Equal([0, 1, 2, 3], chunks.Select(c => c.RateIndex).Distinct());
        Assert.All(chunks, c => Assert.Equal(c.RateIndex / 2, c.Cycle));
        Assert.Equal(1, pico.Emulator.ScriptsFinished);
        Assert.False(pico.Emulator.CellOn);
        Assert.Contains(pico.Emulator.LastScript, l => l.Trim() == "meas_loop_cp p c 10p 1 3600");
        Assert.Contains(pico.Emulator.LastScript, l => l.Trim() == "meas_loop_cp p c -20p 1 3600");

        for (var h = 0; h < 4; h++)
        {
            var (time, potential, current) = Half(chunks, h);
            var charge = h % 2 == 0;
            // Samples come one interval apart from the end of the first interval, as a current applied from t = 0.
            Assert.Equal(1.0, time[0], 9);
            Assert.Equal(time.Length, time[^1], 9);
            Assert.All(current, i => Assert.Equal(charge ? 10e-12 : -20e-12, i, 1e-18));
            // The loop ran until the package that passed its cut-off, and that one was the last.
            if (charge)
            {
                Assert.True(potential[^1] >= 2.1, $"half-cycle {h} ended at {potential[^1]} V, below the 2.1 V cut-off");
                Assert.All(potential[..^1], p => Assert.True(p < 2.1, $"half-cycle {h} went on past 2.1 V ({p} V)"));
            }
            else
            {
                Assert.True(potential[^1] <= 1.0, $"half-cycle {h} ended at {potential[^1]} V, above the 1.0 V cut-off");
                Assert.All(potential[..^1], p => Assert.True(p > 1.0, $"half-cycle {h} went on past 1.0 V ({p} V)"));
            }
            var plateau = PlateauV(time, potential);
            Assert.InRange(plateau, 1.50, 1.60);

            var driverC = ChargeC(time, current);
            var directC = direct.HalfCycleChargeC[h];
            output.WriteLine($"half-cycle {h} ({(charge ? "charge" : "discharge")}): {time.Length} samples, plateau {plateau:0.0000} V, "
                + $"driver {driverC:0.0000e0} C = {ChargeDischargeResult.MicroAmpHours(driverC):0.00000e0} uAh, direct {directC:0.0000e0} C, "
                + $"ratio {driverC / directC:0.000000}");
            Assert.Equal(directC, driverC, directC * 0.01);
        }
        // Fast discharge (twice the charge current) delivers less than the charge, as in the paper.
        Assert.True(direct.HalfCycleChargeC[1] < direct.HalfCycleChargeC[0]);
        Assert.True(ChargeC(Half(chunks, 1).TimeS, Half(chunks, 1).CurrentA) < ChargeC(Half(chunks, 0).TimeS, Half(chunks, 0).CurrentA));
    }

    [Fact]
    public async Task The_maximum_duration_bounds_the_whole_technique_not_each_half_cycle()
    {
        await using var pico = await EmulatedEmStat.StartAsync(options: MethodScriptOptions.Default with { ChunkSize = 256 }, electrode: EmulatedEmStat.LtoFilm);
        // The charge takes about 1070 s, so 1200 s leave about 130 s of discharge and no second cycle.
        var request = Paper(cycles: 2, maxDurationS: 1200);

        var chunks = await RunAsync(pico.Driver, request).WaitAsync(Hang);

        Assert.Equal([0, 1], chunks.Select(c => c.RateIndex).Distinct());
        var charge = Half(chunks, 0);
        var discharge = Half(chunks, 1);
        Assert.True(charge.PotentialV[^1] >= 2.1);
        Assert.True(discharge.PotentialV[^1] > 1.0, "the discharge reached its cut-off: the duration bound was not tested");
        Assert.Equal(1200, charge.TimeS[^1] + discharge.TimeS[^1], 1e-6);
        Assert.False(pico.Emulator.CellOn);
    }

    [Fact]
    public async Task An_abort_mid_charge_stops_the_script_switches_the_cell_off_and_keeps_the_line_in_step()
    {
        await using var pico = await EmulatedEmStat.StartAsync(realTime: true, MethodScriptOptions.Default with { ChunkSize = 5 }, EmulatedEmStat.LtoFilm);
        // 50 ms per sample, about 21000 samples to the cut-off: far from done when the abort comes.
        var request = Paper(cycles: 1) with { IntervalS = 0.05 };
        var received = 0;

        var ex = await Assert.ThrowsAsync<PotentiostatAbortedException>(async () =>
        {
            await foreach (var chunk in pico.Driver.RunChargeDischargeAsync(request, CancellationToken.None))
            {
                Assert.Equal(0, chunk.RateIndex);
                received += chunk.Count;
                if (received == 10)
                {
                    await pico.Driver.AbortAsync(CancellationToken.None);
                }
            }
        }).WaitAsync(Hang);

        Assert.Contains(pico.HostPort, ex.Message, StringComparison.Ordinal);
        Assert.InRange(received, 10, 100);
        Assert.False(pico.Emulator.CellOn);
        Assert.StartsWith(MethodScriptEmulator.FirmwareVersion, await pico.Driver.GetVersionAsync(CancellationToken.None).WaitAsync(Hang), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_error_reply_becomes_a_typed_error_and_the_next_run_works()
    {
        await using var pico = await EmulatedEmStat.StartAsync(electrode: EmulatedEmStat.LtoFilm);
        pico.Emulator.Fault = MethodScriptFault.ErrorReply;
        pico.Emulator.ErrorCode = 0x4205;

        var ex = await Assert.ThrowsAsync<MethodScriptException>(() => RunAsync(pico.Driver, Paper(cycles: 1))).WaitAsync(Hang);

        Assert.Equal(0x4205, ex.Code);
        Assert.Equal("not supported by this device", ex.Meaning);
        Assert.Contains(pico.HostPort, ex.Message, StringComparison.Ordinal);
        // What ran and which line the device blames, as it was sent.
        Assert.Contains("running the charge/discharge script at script line 1, column 1 ('var c')", ex.Message, StringComparison.Ordinal);

        pico.Emulator.Fault = MethodScriptFault.None;
        var chunks = await RunAsync(pico.Driver, Paper(cycles: 1)).WaitAsync(Hang);
        Assert.Equal([0, 1], chunks.Select(c => c.RateIndex).Distinct());
    }
}
