using Seccm.Contracts.Scan;

namespace Seccm.Scan.Recipes;

/// <summary>Checks a recipe's fields against what the instruments can do; returns "field: problem" lines.</summary>
public static class RecipeValidator
{
    public const int MaxPixels = 512 * 512;
    public const double MaxTravelUm = 100;

    public static IEnumerable<string> Validate(Recipe r)
    {
        if (string.IsNullOrWhiteSpace(r.Name))
        {
            yield return "name: must not be empty";
        }
        if (r.Grid is null && (r.Points is null || r.Points.Count == 0))
        {
            yield return "grid: give a grid (nx, ny, pitchUm) or a list of points";
        }
        if (r.Grid is not null && r.Points is { Count: > 0 })
        {
            yield return "points: give either a grid or points, not both";
        }
        if (r.Grid is { } g)
        {
            if (g.Nx < 1 || g.Ny < 1 || (long)g.Nx * g.Ny > MaxPixels)
            {
                yield return $"grid.nx, grid.ny: must be at least 1 and at most {MaxPixels} pixels in all (got {g.Nx} x {g.Ny})";
            }
            if (!(g.PitchUm > 0) || !double.IsFinite(g.PitchUm))
            {
                yield return $"grid.pitchUm: must be > 0 (got {g.PitchUm})";
            }
            var origin = r.Origin ?? new PointSpec(0, 0);
            if (g.PitchUm > 0 && (origin.XUm + (g.Nx - 1) * g.PitchUm > MaxTravelUm || origin.YUm + (g.Ny - 1) * g.PitchUm > MaxTravelUm))
            {
                yield return $"grid: the area ({g.Nx - 1} x {g.PitchUm} um from the origin) leaves the {MaxTravelUm} um stage travel";
            }
        }
        foreach (var (p, i) in (r.Points ?? []).Select((p, i) => (p, i)))
        {
            if (!InRange(p.XUm, 0, MaxTravelUm) || !InRange(p.YUm, 0, MaxTravelUm))
            {
                yield return $"points[{i}]: ({p.XUm}, {p.YUm}) um is outside the stage travel 0..{MaxTravelUm} um";
            }
        }
        if (r.Origin is { } o && (!InRange(o.XUm, 0, MaxTravelUm) || !InRange(o.YUm, 0, MaxTravelUm)))
        {
            yield return $"origin: ({o.XUm}, {o.YUm}) um is outside the stage travel 0..{MaxTravelUm} um";
        }
        if (r.Technique is null)
        {
            yield return "technique: missing (kind: cv, hold or chargeDischarge)";
        }
        else
        {
            foreach (var problem in ValidateTechnique(r.Technique))
            {
                yield return problem;
            }
        }
        var a = r.Approach ?? new ApproachSpec();
        if (!InRange(a.SpeedUmPerS, 0.001, 50))
        {
            yield return $"approach.speedUmPerS: must be between 0.001 and 50 (got {a.SpeedUmPerS})";
        }
        if (!InRange(a.MaxTravelUm, 0.01, 60))
        {
            yield return $"approach.maxTravelUm: must be between 0.01 and 60 (got {a.MaxTravelUm})";
        }
        if (!InRange(a.ContactThresholdA, 1e-15, 1e-3))
        {
            yield return $"approach.contactThresholdA: must be between 1e-15 and 1e-3 A (got {a.ContactThresholdA})";
        }
        if (!InRange(a.BiasV, -5, 5))
        {
            yield return $"approach.biasV: must be between -5 and 5 V (got {a.BiasV})";
        }
        if (!InRange(r.RetractUm, 0.01, 60))
        {
            yield return $"retractUm: must be between 0.01 and 60 (got {r.RetractUm})";
        }
        if (!InRange(r.SettleS, 0, 600))
        {
            yield return $"settleS: must be between 0 and 600 (got {r.SettleS})";
        }
        if (r.CheckpointEveryPixels < 1)
        {
            yield return $"checkpointEveryPixels: must be at least 1 (got {r.CheckpointEveryPixels})";
        }
        if (r.Glovebox is { } gb && (!(gb.MaxO2Ppm > 0) || !(gb.MaxH2oPpm > 0)))
        {
            yield return "glovebox.maxO2Ppm, glovebox.maxH2oPpm: must be > 0";
        }
        if (r.Analysis is { } an)
        {
            if (an.AreaCm2 is null && !InRange(an.RadiusNm, 1, 1e6))
            {
                yield return $"analysis.radiusNm: must be between 1 and 1e6 nm (got {an.RadiusNm})";
            }
            if (an.AreaCm2 is { } area && !(area > 0))
            {
                yield return $"analysis.areaCm2: must be > 0 (got {area})";
            }
            if (!(an.ConcentrationMolCm3 > 0))
            {
                yield return $"analysis.concentrationMolCm3: must be > 0 (got {an.ConcentrationMolCm3})";
            }
            if (an.N < 1 || an.N > 6)
            {
                yield return $"analysis.n: must be 1..6 (got {an.N})";
            }
            if (!InRange(an.TemperatureK, 200, 400))
            {
                yield return $"analysis.temperatureK: must be between 200 and 400 (got {an.TemperatureK})";
            }
        }
    }

    private static IEnumerable<string> ValidateTechnique(TechniqueSpec t)
    {
        if (!Enum.IsDefined(t.OnInvalidSamples))
        {
            yield return $"technique.onInvalidSamples: must be flag, remeasure or skip (got {t.OnInvalidSamples})";
        }
        if (t.MaxRemeasures is < 0 or > 10)
        {
            yield return $"technique.maxRemeasures: must be between 0 and 10 (got {t.MaxRemeasures})";
        }
        switch (t.Kind)
        {
            case TechniqueKind.Cv when t.Cv is null:
                yield return "technique.cv: missing for kind cv";
                break;
            case TechniqueKind.Cv:
                var cv = t.Cv!;
                foreach (var (v, name) in new[] { (cv.StartV, "startV"), (cv.Vertex1V, "vertex1V"), (cv.Vertex2V, "vertex2V") })
                {
                    if (!InRange(v, -5, 5))
                    {
                        yield return $"technique.cv.{name}: must be between -5 and 5 V (got {v})";
                    }
                }
                if (cv.Vertex1V == cv.Vertex2V)
                {
                    yield return "technique.cv.vertex2V: must differ from vertex1V";
                }
                if (!InRange(cv.StepV, 1e-5, 0.05))
                {
                    yield return $"technique.cv.stepV: must be between 1e-5 and 0.05 V (got {cv.StepV})";
                }
                if (cv.ScanRatesVPerS is null || cv.ScanRatesVPerS.Count == 0)
                {
                    yield return "technique.cv.scanRatesVPerS: give at least one scan rate";
                }
                else
                {
                    foreach (var (rate, i) in cv.ScanRatesVPerS.Select((x, i) => (x, i)))
                    {
                        if (!InRange(rate, 1e-5, 100))
                        {
                            yield return $"technique.cv.scanRatesVPerS[{i}]: must be between 1e-5 and 100 V/s (got {rate})";
                        }
                    }
                    if (cv.ScanRatesVPerS.Distinct().Count() != cv.ScanRatesVPerS.Count)
                    {
                        yield return "technique.cv.scanRatesVPerS: each rate once";
                    }
                }
                if (cv.Cycles is < 1 or > 100)
                {
                    yield return $"technique.cv.cycles: must be 1..100 (got {cv.Cycles})";
                }
                break;
            case TechniqueKind.Hold when t.Hold is null:
                yield return "technique.hold: missing for kind hold";
                break;
            case TechniqueKind.Hold:
                if (!InRange(t.Hold!.PotentialV, -5, 5))
                {
                    yield return $"technique.hold.potentialV: must be between -5 and 5 V (got {t.Hold.PotentialV})";
                }
                if (!InRange(t.Hold.DurationS, 1e-3, 86400))
                {
                    yield return $"technique.hold.durationS: must be between 0.001 and 86400 s (got {t.Hold.DurationS})";
                }
                if (!InRange(t.Hold.IntervalS, 1e-5, 10) || t.Hold.IntervalS > t.Hold.DurationS)
                {
                    yield return $"technique.hold.intervalS: must be between 1e-5 and 10 s and not longer than the duration (got {t.Hold.IntervalS})";
                }
                break;
            case TechniqueKind.ChargeDischarge when t.ChargeDischarge is null:
                yield return "technique.chargeDischarge: missing for kind chargeDischarge";
                break;
            case TechniqueKind.ChargeDischarge:
                var cd = t.ChargeDischarge!;
                if (cd.ChargeCurrentA == 0 || !double.IsFinite(cd.ChargeCurrentA) || Math.Abs(cd.ChargeCurrentA) > 0.01)
                {
                    yield return $"technique.chargeDischarge.chargeCurrentA: must be non-zero and at most 10 mA (got {cd.ChargeCurrentA})";
                }
                if (cd.DischargeCurrentA == 0 || !double.IsFinite(cd.DischargeCurrentA) || Math.Abs(cd.DischargeCurrentA) > 0.01)
                {
                    yield return $"technique.chargeDischarge.dischargeCurrentA: must be non-zero and at most 10 mA (got {cd.DischargeCurrentA})";
                }
                if (!InRange(cd.LowerCutoffV, -5, 5) || !InRange(cd.UpperCutoffV, -5, 5) || cd.LowerCutoffV >= cd.UpperCutoffV)
                {
                    yield return $"technique.chargeDischarge.lowerCutoffV/upperCutoffV: must be within -5..5 V with lower < upper (got {cd.LowerCutoffV}, {cd.UpperCutoffV})";
                }
                if (cd.Cycles is < 1 or > 1000)
                {
                    yield return $"technique.chargeDischarge.cycles: must be 1..1000 (got {cd.Cycles})";
                }
                break;
        }
    }

    private static bool InRange(double value, double min, double max) => double.IsFinite(value) && value >= min && value <= max;
}
