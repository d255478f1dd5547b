namespace Seccm.Host.Reproduce;

/// <summary>One charge/discharge cycle: capacities (C, uAh, uAh/cm^2 of the wetted area), efficiency, plateaus.</summary>
internal sealed record CycleResult(
    int Cycle,
    double ChargeC,
    double DischargeC,
    double ChargeUAh,
    double DischargeUAh,
    double ChargeUAhPerCm2,
    double DischargeUAhPerCm2,
    double CoulombicEfficiency,
    double ChargePlateauV,
    double DischargePlateauV,
    double ChargeS,
    double DischargeS);

/// <summary>Per-cycle analysis of galvanostatic half-cycles (pure: arrays in, numbers out).</summary>
internal static class ChargeDischargeAnalysis
{
    /// <summary>C per uAh.</summary>
    public const double CoulombsPerMicroAmpHour = 3.6e-3;

    /// <summary>Charge passed in one half-cycle: trapezoid of |i| over t, from the start of the current (t = 0).</summary>
    public static double ChargeC(double[] timeS, double[] currentA)
    {
        ArgumentNullException.ThrowIfNull(timeS);
        ArgumentNullException.ThrowIfNull(currentA);
        if (timeS.Length != currentA.Length || timeS.Length == 0)
        {
            throw new ArgumentException($"a half-cycle needs as many times as currents and at least one sample (got {timeS.Length} and {currentA.Length})");
        }
        // Sample k holds the current applied over the interval that ends at t_k (the first interval starts at 0).
        double q = 0, previous = 0;
        for (var k = 0; k < timeS.Length; k++)
        {
            q += Math.Abs(currentA[k]) * (timeS[k] - previous);
            previous = timeS[k];
        }
        return q;
    }

    /// <summary>Potential halfway through the half-cycle's charge: the plateau of a two-phase material.</summary>
    public static double PlateauV(double[] timeS, double[] potentialV)
    {
        ArgumentNullException.ThrowIfNull(timeS);
        ArgumentNullException.ThrowIfNull(potentialV);
        var half = timeS[^1] / 2;
        var k = Array.FindIndex(timeS, t => t >= half);
        return potentialV[Math.Max(k, 0)];
    }

    /// <summary>Pairs half-cycles (even index charge, odd discharge) into cycles; a lone charge gives a cycle with no discharge.</summary>
    public static IReadOnlyList<CycleResult> Analyze(IReadOnlyList<(double[] TimeS, double[] PotentialV, double[] CurrentA)> halfCycles, double areaCm2)
    {
        ArgumentNullException.ThrowIfNull(halfCycles);
        if (!(areaCm2 > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(areaCm2), areaCm2, "the wetted area must be > 0 cm^2");
        }
        var cycles = new List<CycleResult>();
        for (var h = 0; h < halfCycles.Count; h += 2)
        {
            var charge = halfCycles[h];
            var qc = ChargeC(charge.TimeS, charge.CurrentA);
            var hasDischarge = h + 1 < halfCycles.Count;
            var discharge = hasDischarge ? halfCycles[h + 1] : default;
            var qd = hasDischarge ? ChargeC(discharge.TimeS, discharge.CurrentA) : double.NaN;
            cycles.Add(new CycleResult(h / 2, qc, qd, qc / CoulombsPerMicroAmpHour, qd / CoulombsPerMicroAmpHour,
                qc / CoulombsPerMicroAmpHour / areaCm2, qd / CoulombsPerMicroAmpHour / areaCm2, qd / qc,
                PlateauV(charge.TimeS, charge.PotentialV), hasDischarge ? PlateauV(discharge.TimeS, discharge.PotentialV) : double.NaN,
                charge.TimeS[^1], hasDischarge ? discharge.TimeS[^1] : double.NaN));
        }
        return cycles;
    }

    /// <summary>Capacity (uAh) at each sample of a half-cycle, for a potential-against-capacity plot.</summary>
    public static double[] CapacityUAh(double[] timeS, double[] currentA)
    {
        var q = new double[timeS.Length];
        double sum = 0, previous = 0;
        for (var k = 0; k < timeS.Length; k++)
        {
            sum += Math.Abs(currentA[k]) * (timeS[k] - previous);
            previous = timeS[k];
            q[k] = sum / CoulombsPerMicroAmpHour;
        }
        return q;
    }
}
