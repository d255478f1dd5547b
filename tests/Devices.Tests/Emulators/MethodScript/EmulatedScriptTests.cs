using Seccm.Devices.Emulators.MethodScript;

namespace Seccm.Devices.Tests.Emulators.MethodScript;

public sealed class EmulatedScriptTests
{
    private static readonly string[] Cv =
    [
        "var c", "var p", "set_pgstat_mode 3", "set_range ba 100n", "cell_on",
        "meas_loop_cv p c -500m 500m -1 10m 100m nscans(3)", "  pck_start", "  pck_add p", "  pck_add c", "  pck_end", "endloop",
        "on_finished:", "cell_off",
    ];

    [Fact]
    public void A_driver_style_cv_script_parses_into_its_loop()
    {
        var (script, error) = EmulatedScript.Parse(Cv);
        Assert.Null(error);
        var loop = Assert.Single(script!.Main.OfType<MeasLoopStatement>());
        Assert.True(loop.IsCv);
        Assert.Equal((-0.5, 0.5, -1.0, 0.01, 0.1, 3), (loop.BeginV, loop.Vertex1V, loop.Vertex2V, loop.StepV, loop.ScanRateVPerS, loop.Scans));
        Assert.Equal(["p", "c"], loop.PackageVariables);
        Assert.Equal(100e-9, Assert.Single(script.Main.OfType<SetRangeStatement>()).RangeA, 15);
        Assert.False(Assert.Single(script.OnFinished.OfType<CellStatement>()).On);
    }

    [Theory]
    [InlineData(3, "bogus_command", 0x0003, 1)]
    [InlineData(3, "  meas_loop_eis p c 1 2 3", 0x4205, 3)]
    [InlineData(4, "set_range ba banana", 0x0006, 14)]
    [InlineData(6, "meas_loop_cv p c -500m 500m -1 10m", 0x0006, 35)]
    [InlineData(6, "meas_loop_cv p q -500m 500m -1 10m 100m", 0x4003, 16)]
    [InlineData(6, "meas_loop_cv p c -500m 500m -1 0 100m", 0x0007, 32)]
    public void Bad_lines_get_the_device_error_code_line_and_column(int lineNo, string replacement, int code, int column)
    {
        var lines = Cv.ToArray();
        lines[lineNo - 1] = replacement;
        var (_, error) = EmulatedScript.Parse(lines);
        Assert.Equal(new ScriptError(code, lineNo, column), error);
    }

    [Fact]
    public void A_loop_without_endloop_is_a_script_error_at_the_loop()
    {
        var (_, error) = EmulatedScript.Parse(Cv[..10]);
        Assert.Equal(new ScriptError(0x4004, 6, 1), error);
    }

    /// <summary>The shape the MethodSCRIPT driver sends for charge/discharge: cut-off and timer breaks, later loops under an if.</summary>
    private static readonly string[] Cp =
    [
        "var c", "var p", "var t", "set_pgstat_mode 3", "set_range ba 1n", "cell_on", "timer_start",
        "meas_loop_cp p c 10p 1 3600", "  pck_start", "  pck_add p", "  pck_add c", "  pck_end",
        "  if p >= 2100m", "    breakloop", "  endif", "  timer_get t", "  if t >= 3600", "    breakloop", "  endif", "endloop",
        "timer_get t", "if t < 3600",
        "  meas_loop_cp p c -20p 1 3600", "    pck_start", "    pck_add p", "    pck_add c", "    pck_end",
        "    if p <= 1", "      breakloop", "    endif", "  endloop",
        "endif",
        "on_finished:", "cell_off",
    ];

    [Fact]
    public void A_driver_style_cp_script_parses_into_loops_with_their_break_conditions()
    {
        var (script, error) = EmulatedScript.Parse(Cp);
        Assert.Null(error);
        var charge = Assert.Single(script!.Main.OfType<MeasLoopStatement>());
        Assert.Equal((LoopKind.Cp, 10e-12, 1.0, 3600.0), (charge.Kind, charge.CurrentA, charge.IntervalS, charge.DurationS));
        Assert.Equal(["p", "c"], charge.PackageVariables);
        Assert.Equal<LoopCommand>([new SendPackage(), new BreakIf(new Condition("p", ">=", 2.1)), new TimerGet("t"), new BreakIf(new Condition("t", ">=", 3600))],
            charge.Body);
        Assert.Single(script.Main.OfType<TimerStartStatement>());
        var conditional = Assert.Single(script.Main.OfType<IfStatement>());
        Assert.Equal(new Condition("t", "<", 3600), conditional.Condition);
        var discharge = Assert.IsType<MeasLoopStatement>(Assert.Single(conditional.Body));
        Assert.Equal(-20e-12, discharge.CurrentA, 1e-24);
        Assert.Equal<LoopCommand>([new SendPackage(), new BreakIf(new Condition("p", "<=", 1))], discharge.Body);
    }

    [Theory]
    [InlineData(8, "meas_loop_cp p c 0 1 3600", 0x0007, 18)]
    [InlineData(8, "meas_loop_cp p c 10p 1", 0x0006, 23)]
    [InlineData(13, "  if q >= 2100m", 0x4003, 6)]
    [InlineData(13, "  if p => 2100m", 0x0006, 8)]
    [InlineData(13, "  if p >= volts", 0x0006, 11)]
    [InlineData(14, "    send_string hi", 0x4205, 5)]
    [InlineData(16, "  timer_get u", 0x4003, 13)]
    [InlineData(21, "breakloop", 0x4002, 1)]
    [InlineData(32, "else", 0x4205, 1)]
    public void Bad_cp_lines_get_the_device_error_code_line_and_column(int lineNo, string replacement, int code, int column)
    {
        var lines = Cp.ToArray();
        lines[lineNo - 1] = replacement;
        var (_, error) = EmulatedScript.Parse(lines);
        Assert.Equal(new ScriptError(code, lineNo, column), error);
    }

    [Fact]
    public void An_if_without_endif_is_a_script_error_at_the_if()
    {
        var (_, error) = EmulatedScript.Parse(Cp[..31]);
        Assert.Equal(new ScriptError(0x4004, 22, 1), error);
    }

    [Theory]
    [InlineData("500m", 0.5)]
    [InlineData("-1", -1.0)]
    [InlineData("10u", 1e-5)]
    [InlineData("1M", 1e6)]
    [InlineData("7i", 7.0)]
    public void Numbers_take_an_si_prefix(string text, double expected) =>
        Assert.Equal(expected, EmulatedScript.ParseNumber(text)!.Value, Math.Abs(expected) * 1e-12);

    [Theory]
    [InlineData("")]
    [InlineData("m")]
    [InlineData("1x")]
    [InlineData("1e3")]
    public void Non_numbers_are_refused(string text) => Assert.Null(EmulatedScript.ParseNumber(text));
}
