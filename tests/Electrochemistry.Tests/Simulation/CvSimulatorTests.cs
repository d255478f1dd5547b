using Seccm.Electrochemistry.Simulation;

namespace Seccm.Electrochemistry.Tests.Simulation;

public class CvSimulatorTests
{
    private const double F = PhysicalConstants.FaradayCPerMol;
    private const double R = PhysicalConstants.GasJPerMolK;
    private const double T = PhysicalConstants.RoomTemperatureK;

    private static RedoxCouple Reversible(double dCm2PerS = 1e-5, double cMolCm3 = 1e-6) => new(0.0, 1e4, 0.5, dCm2PerS, cMolCm3);

    private static double RandlesSevcikA(double areaCm2, double cMolCm3, double vVPerS, double dCm2PerS) =>
        0.4463 * F * areaCm2 * cMolCm3 * Math.Sqrt(F * vVPerS * dCm2PerS / (R * T));

    /// <summary>Index range of the first sweep (start to vertex 1).</summary>
    private static int ForwardEnd(SimulatedCurve c)
    {
        double dir = Math.Sign(c.PotentialV[1] - c.PotentialV[0]);
        int k = 1;
        while (k < c.Count - 1 && Math.Sign(c.PotentialV[k + 1] - c.PotentialV[k]) == dir) k++;
        return k;
    }

    /// <summary>Extremum (max if sign > 0) with a parabola through the top three samples: (potential, current).</summary>
    internal static (double PotentialV, double CurrentA) Peak(double[] e, double[] i, int from, int to, int sign)
    {
        int best = from;
        for (int k = from; k <= to; k++) if (sign * i[k] > sign * i[best]) best = k;
        if (best == from || best == to) return (e[best], i[best]);
        double y0 = i[best - 1], y1 = i[best], y2 = i[best + 1];
        double den = y0 - 2 * y1 + y2;
        double shift = den == 0 ? 0 : 0.5 * (y0 - y2) / den;
        double de = e[best + 1] - e[best];
        return (e[best] + shift * de, y1 - 0.25 * (y0 - y2) * shift);
    }

    internal static (double Epa, double Ipa, double Epc, double Ipc) Peaks(SimulatedCurve c)
    {
        int end = ForwardEnd(c);
        var a = Peak(c.PotentialV, c.FaradaicCurrentA, 0, end, +1);
        var b = Peak(c.PotentialV, c.FaradaicCurrentA, end, c.Count - 1, -1);
        return (a.PotentialV, a.CurrentA, b.PotentialV, b.CurrentA);
    }

    [Theory]
    [InlineData(0.1, 0.001)]
    [InlineData(20, 0.001)]
    [InlineData(1, 0.0001)]
    public void Reversible_peak_current_matches_Randles_Sevcik_within_half_a_percent(double v, double step)
    {
        var curve = CvSimulator.Cv(Electrode.Ideal(Reversible(), 1.0), new CvProtocol(-0.5, 0.5, -0.5, step, v));
        var (_, ipa, _, _) = Peaks(curve);
        double expected = RandlesSevcikA(1.0, 1e-6, v, 1e-5);
        Assert.InRange(ipa / expected, 0.995, 1.005);
    }

    [Fact]
    public void Reversible_peak_sits_28_5_mV_past_the_half_wave_potential()
    {
        var curve = CvSimulator.Cv(Electrode.Ideal(Reversible(), 1.0), new CvProtocol(-0.5, 0.5, -0.5, 0.0001, 1));
        var (epa, _, epc, _) = Peaks(curve);
        Assert.InRange((epa - 0.0) * 1000, 27.5, 29.5);
        Assert.InRange((epa - epc) * 1000, 56.5, 59.5);
    }

    // Nicholson's dEp depends weakly on the switching potential (a few mV at psi 0.1); his table switches
    // a few hundred mV past E0, as here.
    [Theory]
    [InlineData(20, 61)]
    [InlineData(7, 63)]
    [InlineData(6, 64)]
    [InlineData(5, 65)]
    [InlineData(4, 66)]
    [InlineData(3, 68)]
    [InlineData(2, 72)]
    [InlineData(1, 84)]
    [InlineData(0.75, 92)]
    [InlineData(0.5, 105)]
    [InlineData(0.35, 121)]
    [InlineData(0.25, 141)]
    [InlineData(0.1, 212)]
    public void Peak_separation_follows_Nicholson_within_3_mV(double psi, double dEpMv)
    {
        const double d = 1e-5, v = 0.1;
        double k0 = psi * Math.Sqrt(Math.PI * d * F * v / (R * T));
        var couple = new RedoxCouple(0.0, k0, 0.5, d, 1e-6);
        var curve = CvSimulator.Cv(Electrode.Ideal(couple, 1.0), new CvProtocol(-0.3, 0.3, -0.3, 0.0005, v));
        var (epa, _, epc, _) = Peaks(curve);
        Assert.InRange((epa - epc) * 1000, dEpMv - 3, dEpMv + 3);
    }

    private const double FilmCm = 1e-5;   // 100 nm
    private const double FilmD = 1e-9;

    private static double ForwardPeakA(double v, double filmCm = FilmCm)
    {
        var couple = new RedoxCouple(0.0, 1e4, 0.5, FilmD, 1e-3);
        var curve = CvSimulator.Cv(Electrode.Ideal(couple, 1.0, filmCm), new CvProtocol(-0.3, 0.3, -0.3, 0.0005, v));
        return Peaks(curve).Ipa;
    }

    private static double ThinLayerA(double v, double filmCm = FilmCm) => F * F * v * (1.0 * filmCm) * 1e-3 / (4 * R * T);

    [Fact]
    public void Thin_film_at_slow_rate_matches_the_thin_layer_peak_within_2_percent()
    {
        double v = 1e-3; // diffusion length sqrt(D RT/Fv) = 1.6 um >> 100 nm film
        Assert.InRange(ForwardPeakA(v) / ThinLayerA(v), 0.98, 1.02);
    }

    [Fact]
    public void Finite_film_crosses_over_from_ip_proportional_to_v_to_ip_proportional_to_sqrt_v()
    {
        double[] rates = [1e-3, 1e-2, 1e-1, 1, 10, 100];
        var ip = rates.Select(v => ForwardPeakA(v)).ToArray();
        // Fast end: semi-infinite Randles-Sevcik. Slow end: thin layer.
        Assert.InRange(ip[^1] / RandlesSevcikA(1.0, 1e-3, rates[^1], FilmD), 0.99, 1.01);
        Assert.InRange(ip[0] / ThinLayerA(rates[0]), 0.98, 1.02);
        // The log-log slope falls monotonically from 1 towards 1/2 as sqrt(D t) shrinks below the film.
        var slopes = Enumerable.Range(0, rates.Length - 1)
            .Select(k => Math.Log(ip[k + 1] / ip[k]) / Math.Log(rates[k + 1] / rates[k])).ToArray();
        Assert.InRange(slopes[0], 0.95, 1.0);
        Assert.InRange(slopes[^1], 0.5, 0.52);
        for (int k = 1; k < slopes.Length; k++) Assert.True(slopes[k] < slopes[k - 1], $"slope {k}: {slopes[k]} !< {slopes[k - 1]}");
    }

    private static double Integrate(double[] t, double[] y, int from, int to)
    {
        double q = 0;
        for (int k = from; k < to; k++) q += 0.5 * (y[k] + y[k + 1]) * (t[k + 1] - t[k]);
        return q;
    }

    [Fact]
    public void Charge_is_conserved_over_a_reversible_cycle_and_equals_nFCV_for_a_thin_film()
    {
        var couple = new RedoxCouple(0.0, 1e4, 0.5, FilmD, 1e-3);
        const double area = 1e-2;
        var curve = CvSimulator.Cv(Electrode.Ideal(couple, area, FilmCm), new CvProtocol(-0.4, 0.4, -0.4, 0.001, 1e-3));
        int end = ForwardEnd(curve);
        double forward = Integrate(curve.TimeS, curve.FaradaicCurrentA, 0, end);
        double reverse = Integrate(curve.TimeS, curve.FaradaicCurrentA, end, curve.Count - 1);
        double film = F * 1e-3 * area * FilmCm;
        Assert.InRange(forward / film, 0.999, 1.001);
        Assert.InRange(Math.Abs(forward + reverse) / film, 0, 1e-3);
    }

    [Fact]
    public void Same_seed_gives_the_same_noise_and_another_seed_other_noise()
    {
        var e = new Electrode([Reversible()], 1e-2, NoiseRmsA: 1e-9, NoiseSeed: 7);
        var p = new CvProtocol(-0.3, 0.3, -0.3, 0.001, 1);
        var a = CvSimulator.Cv(e, p);
        var b = CvSimulator.Cv(e, p);
        var c = CvSimulator.Cv(e with { NoiseSeed = 8 }, p);
        Assert.Equal(a.CurrentA, b.CurrentA);
        Assert.NotEqual(a.CurrentA, c.CurrentA);
        double rms = Math.Sqrt(a.CurrentA.Zip(a.FaradaicCurrentA, (x, y) => (x - y) * (x - y)).Average());
        Assert.InRange(rms, 0.95e-9, 1.05e-9);
    }

    [Fact]
    public void Double_layer_adds_Cdl_times_v_and_leakage_its_line_on_a_bare_electrode()
    {
        var e = new Electrode([], 1e-2, DoubleLayerF: 1e-6, LeakageAPerV: 2e-9, LeakageOffsetA: 1e-9);
        var curve = CvSimulator.Cv(e, new CvProtocol(0, 1, 0, 0.001, 0.5));
        int mid = ForwardEnd(curve) / 2;
        Assert.Equal(1e-6 * 0.5 + 2e-9 * curve.PotentialV[mid] + 1e-9, curve.CurrentA[mid], 1e-15);
        Assert.Equal(-1e-6 * 0.5 + 2e-9 * curve.PotentialV[^10] + 1e-9, curve.CurrentA[^10], 1e-15);
        Assert.All(curve.FaradaicCurrentA, i => Assert.Equal(0, i));
    }

    [Fact]
    public void The_amplifier_bandwidth_is_a_first_order_low_pass_on_the_measured_current()
    {
        // Charging current of a bare electrode jumps from +C v to -C v at the vertex; a first-order filter with
        // tau = 1 / (2 pi f) follows as -C v + 2 C v exp(-t / tau), and the Faradaic record is not filtered.
        const double cdl = 1e-9, v = 10, bandwidthHz = 100;
        double tau = 1 / (2 * Math.PI * bandwidthHz);
        var e = new Electrode([], 1e-2, DoubleLayerF: cdl, MeasurementBandwidthHz: bandwidthHz);
        var curve = CvSimulator.Cv(e, new CvProtocol(0, 1, 0, 0.0005, v));
        int vertex = ForwardEnd(curve);
        foreach (double after in new[] { 0.5 * tau, tau, 3 * tau })
        {
            int k = vertex + (int)Math.Round(after * v / 0.0005);
            double t = curve.TimeS[k] - curve.TimeS[vertex];
            double expected = -cdl * v + 2 * cdl * v * Math.Exp(-t / tau);
            // BDF2 takes one internal step (50 us here) to turn the charging current at the kink: 3% of C v.
            Assert.Equal(expected, curve.CurrentA[k], 0.03 * cdl * v);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => CvSimulator.Cv(e with { MeasurementBandwidthHz = 0 }, new CvProtocol(0, 1, 0, 0.001, 1)));
    }

    [Fact]
    public void Uncompensated_resistance_shifts_the_peak_by_about_ip_Ru_and_lowers_it()
    {
        var couple = Reversible();
        var p = new CvProtocol(-0.5, 0.5, -0.5, 0.0005, 1);
        var ideal = Peaks(CvSimulator.Cv(Electrode.Ideal(couple, 1.0), p));
        double ru = 0.02 / ideal.Ipa; // 20 mV of iR at the peak
        var withR = Peaks(CvSimulator.Cv(new Electrode([couple], 1.0, UncompensatedOhm: ru), p));
        double shiftMv = (withR.Epa - ideal.Epa) * 1000;
        // The wave also broadens (the effective sweep slows near the peak), so the shift exceeds ip R_u somewhat.
        Assert.InRange(shiftMv, 15, 30);
        Assert.True(withR.Ipa < ideal.Ipa);
        Assert.True(withR.Epc < ideal.Epc);
    }

    [Fact]
    public void Potential_step_on_semi_infinite_diffusion_follows_Cottrell()
    {
        const double d = 1e-5, c = 1e-6;
        var curve = CvSimulator.Hold(Electrode.Ideal(Reversible(d, c), 1.0), new HoldProtocol(-0.5, 0.5, 1.0, 0.001));
        foreach (int k in new[] { 100, 500, 1000 })
        {
            double cottrell = F * c * Math.Sqrt(d / (Math.PI * curve.TimeS[k]));
            Assert.InRange(curve.CurrentA[k] / cottrell, 0.99, 1.01);
        }
    }

    [Fact]
    public void Invalid_parameters_are_rejected_with_the_field_named()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => CvSimulator.Cv(Electrode.Ideal(Reversible() with { DCm2PerS = -1 }, 1.0), new CvProtocol(0, 1, 0, 0.001, 1)));
        Assert.Equal("DCm2PerS", ex.ParamName);
        var ex2 = Assert.Throws<ArgumentOutOfRangeException>(() => CvSimulator.Cv(Electrode.Ideal(Reversible(), 1.0), new CvProtocol(0, 1, 0, 0.001, 0)));
        Assert.Equal("ScanRateVPerS", ex2.ParamName);
    }
}
