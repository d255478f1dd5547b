using Seccm.Potentiostat.Drivers;
using Seccm.Potentiostat.Drivers.MethodScript;

namespace Seccm.Potentiostat.Tests.Drivers.MethodScript;

public sealed class MethodScriptScriptsTests
{
    [Fact]
    public void A_cv_script_has_one_loop_per_rate_with_nscans_for_cycles()
    {
        var script = MethodScriptScripts.Cv(new CvRequest(-0.5, 0.5, -1.0, 0.01, [0.1, 1.0], 3, 100e-9));

        Assert.Equal(
        [
            "var c", "var p", "set_pgstat_mode 3", "set_range ba 100n", "cell_on",
            "meas_loop_cv p c -500m 500m -1 10m 100m nscans(3)", "  pck_start", "  pck_add p", "  pck_add c", "  pck_end", "endloop",
            "meas_loop_cv p c -500m 500m -1 10m 1 nscans(3)", "  pck_start", "  pck_add p", "  pck_add c", "  pck_end", "endloop",
            "on_finished:", "cell_off",
        ], script);
    }

    [Fact]
    public void A_single_cycle_cv_has_no_nscans() =>
        Assert.Contains("meas_loop_cv p c 1200m 1900m 1200m 5m 20", MethodScriptScripts.Cv(new CvRequest(1.2, 1.9, 1.2, 0.005, [20], 1, 1e-9)));

    [Fact]
    public void A_hold_is_a_chronoamperometry_loop_and_until_stopped_runs_a_million_seconds()
    {
        Assert.Contains("meas_loop_ca p c 1300m 10m 2", MethodScriptScripts.Hold(new HoldRequest(1.3, 0.01, 2, 1e-9)));
        Assert.Contains("meas_loop_ca p c 1300m 10m 1M", MethodScriptScripts.Hold(new HoldRequest(1.3, 0.01, null, 1e-9)));
    }

    /// <summary>
    /// Pins the galvanostatic set-up of PalmSens' chronopotentiometry example (MSLoopExample009-CP, "Applies to: EmStat4,
    /// Nexus"): mode 6 (not the potentiostatic mode 3), the measured potential's range (ab) autoranging, the applied
    /// current's range (db, not ba) fixed, zero current at cell on.
    /// </summary>
    [Fact]
    public void A_charge_discharge_breaks_each_loop_at_its_cut_off_and_bounds_the_whole_run_with_the_device_timer()
    {
        var script = MethodScriptScripts.ChargeDischarge(new ChargeDischargeRequest(10e-12, 20e-12, 2.1, 1.0, 1, 1, 1600, 1e-9), MethodScriptFamily.EmStat4Lr);

        Assert.Equal(
        [
            "var c", "var p", "var t", "set_pgstat_chan 0", "set_pgstat_mode 6", "set_range ab 1", "set_autoranging ab 100m 2",
            "set_range db 1n", "set_autoranging db 1n 1n", "set_i 0", "cell_on", "timer_start",
            "meas_loop_cp p c 10p 1 1600", "  pck_start", "  pck_add p", "  pck_add c", "  pck_end",
            "  if p >= 2100m", "    breakloop", "  endif", "  timer_get t", "  if t >= 1600", "    breakloop", "  endif", "endloop",
            "timer_get t", "if t < 1600",
            "  meas_loop_cp p c -20p 1 1600", "    pck_start", "    pck_add p", "    pck_add c", "    pck_end",
            "    if p <= 1", "      breakloop", "    endif", "    timer_get t", "    if t >= 1600", "      breakloop", "    endif", "  endloop",
            "endif",
            "on_finished:", "cell_off",
        ], script);
    }

    /// <summary>Pins: the EmStat Pico has no galvanostatic mode (the vendor's CP examples do not apply to it): refused before sending.</summary>
    [Fact]
    public void The_pico_has_no_charge_discharge_script()
    {
        var request = new ChargeDischargeRequest(10e-9, 20e-9, 1.9, 1.0, 1, 1, 1600, 100e-9);
        Assert.Throws<ArgumentException>(() => MethodScriptScripts.ChargeDischarge(request, MethodScriptFamily.EmStatPico));
        Assert.Contains(MethodScriptFamily.EmStatPico.Limits.Check(request), e => e.Contains("no galvanostatic mode", StringComparison.Ordinal));
        Assert.Empty(MethodScriptFamily.EmStat4Lr.Limits.Check(request with { CurrentRangeA = 100e-9 }));
    }
}
