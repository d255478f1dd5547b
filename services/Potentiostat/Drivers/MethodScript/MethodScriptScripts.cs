namespace Seccm.Potentiostat.Drivers.MethodScript;

/// <summary>
/// Writes the MethodSCRIPT for each technique. Every technique script ends in <c>on_finished: cell_off</c> so the
/// cell is switched off however the script ends, an abort included.
/// </summary>
internal static class MethodScriptScripts
{
    /// <summary>A hold without a duration runs this long (s) unless aborted: the device needs a number.</summary>
    public const double UntilStoppedS = 1e6;

    public static IReadOnlyList<string> Cv(CvRequest request)
    {
        var lines = Preamble(request.CurrentRangeA);
        foreach (var rate in request.ScanRatesVPerS)
        {
            var loop = string.Join(' ', "meas_loop_cv p c",
                MethodScriptValues.Format(request.StartPotentialV),
                MethodScriptValues.Format(request.Vertex1PotentialV),
                MethodScriptValues.Format(request.Vertex2PotentialV),
                MethodScriptValues.Format(request.StepV),
                MethodScriptValues.Format(rate));
            lines.Add(request.Cycles > 1 ? $"{loop} nscans({request.Cycles})" : loop);
            AddPackageBody(lines);
        }
        AddEnd(lines);
        return lines;
    }

    public static IReadOnlyList<string> Hold(HoldRequest request)
    {
        var lines = Preamble(request.CurrentRangeA);
        lines.Add(string.Join(' ', "meas_loop_ca p c",
            MethodScriptValues.Format(request.PotentialV),
            MethodScriptValues.Format(request.IntervalS),
            MethodScriptValues.Format(request.DurationS ?? UntilStoppedS)));
        AddPackageBody(lines);
        AddEnd(lines);
        return lines;
    }

    /// <summary>
    /// One <c>meas_loop_cp</c> per half-cycle (charge +I, discharge -I), each broken off after the package whose
    /// measured potential passes its cut-off. The maximum duration bounds the whole technique, as on the simulated
    /// potentiostat: the device's timer starts before the first loop, each loop breaks once it reads the maximum, and
    /// every later loop runs only while the timer is below it (so the script may end before its last loop).
    /// </summary>
    public static IReadOnlyList<string> ChargeDischarge(ChargeDischargeRequest request, MethodScriptFamily family)
    {
        if (!family.Limits.Galvanostatic)
        {
            throw new ArgumentException($"The {family.Name} has no galvanostatic mode: charge/discharge needs an EmStat4.");
        }
        var lines = GalvanostaticPreamble(request.CurrentRangeA);
        lines.Add("timer_start");
        var maxDuration = MethodScriptValues.Format(request.MaxDurationS);
        for (var h = 0; h < 2 * request.Cycles; h++)
        {
            var indent = h == 0 ? "" : "  ";
            if (h > 0)
            {
                lines.Add("timer_get t");
                lines.Add($"if t < {maxDuration}");
            }
            var charge = h % 2 == 0;
            lines.Add(indent + string.Join(' ', "meas_loop_cp p c",
                MethodScriptValues.Format(request.CurrentOf(h)),
                MethodScriptValues.Format(request.IntervalS),
                maxDuration));
            foreach (var body in (string[])
                [
                    "  pck_start", "  pck_add p", "  pck_add c", "  pck_end",
                    charge ? $"  if p >= {MethodScriptValues.Format(request.UpperCutoffV)}" : $"  if p <= {MethodScriptValues.Format(request.LowerCutoffV)}",
                    "    breakloop", "  endif",
                    "  timer_get t", $"  if t >= {maxDuration}", "    breakloop", "  endif",
                    "endloop",
                ])
            {
                lines.Add(indent + body);
            }
            if (h > 0)
            {
                lines.Add("endif");
            }
        }
        AddEnd(lines);
        return lines;
    }

    public static IReadOnlyList<string> Cell(bool on) => ["set_pgstat_mode 3", on ? "cell_on" : "cell_off"];

    private static List<string> Preamble(double currentRangeA) =>
    [
        "var c",
        "var p",
        "set_pgstat_mode 3",
        $"set_range ba {MethodScriptValues.Format(currentRangeA)}",
        "cell_on",
    ];

    /// <summary>
    /// The galvanostatic set-up of PalmSens' chronopotentiometry example (MSLoopExample009-CP, "Applies to: EmStat4,
    /// Nexus"): mode 6, the measured potential's range (ab) autoranging, the applied current's range (db) fixed at
    /// <paramref name="currentRangeA"/>, zero current when the cell switches on.
    /// </summary>
    private static List<string> GalvanostaticPreamble(double currentRangeA)
    {
        var range = MethodScriptValues.Format(currentRangeA);
        return
        [
            "var c",
            "var p",
            "var t",
            "set_pgstat_chan 0",
            "set_pgstat_mode 6",
            "set_range ab 1",
            "set_autoranging ab 100m 2",
            $"set_range db {range}",
            $"set_autoranging db {range} {range}",
            "set_i 0",
            "cell_on",
        ];
    }

    private static void AddPackageBody(List<string> lines)
    {
        lines.Add("  pck_start");
        lines.Add("  pck_add p");
        lines.Add("  pck_add c");
        lines.Add("  pck_end");
        lines.Add("endloop");
    }

    private static void AddEnd(List<string> lines)
    {
        lines.Add("on_finished:");
        lines.Add("cell_off");
    }
}
