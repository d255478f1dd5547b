namespace Seccm.Electrochemistry.Simulation;

/// <summary>
/// Cyclic voltammetry and chronoamperometry by 1D finite differences (see <see cref="CoupleGrid"/>), with
/// Butler-Volmer kinetics, finite films, C_dl, an implicitly coupled R_u, leakage and seeded noise.
/// Thread-safe: every call owns its state.
/// </summary>
public static class CvSimulator
{
    /// <summary>Internal time steps per output sample; BDF2 at 1 mV per step is already within 0.5% of Randles-Sevcik.</summary>
    private const int MinSubSteps = 1;

    /// <summary>Potential change per internal step, V: keeps the integration error small when a user samples coarsely.</summary>
    private const double MaxInternalStepV = 0.001;

    /// <summary>Simulates a CV; samples at every potential step, forward sweep first.</summary>
    public static SimulatedCurve Cv(Electrode electrode, CvProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(electrode);
        ArgumentNullException.ThrowIfNull(protocol);
        electrode.Validate();
        protocol.Validate();
        double sampleDt = protocol.SampleIntervalS;
        int samples = (int)Math.Floor(protocol.DurationS / sampleDt + 1e-9) + 1;
        int sub = Math.Max(MinSubSteps, (int)Math.Ceiling(protocol.StepV / MaxInternalStepV - 1e-9));
        double shortest = 1 / (PhysicalConstants.FOverRtPerV(1, electrode.TemperatureK) * protocol.ScanRateVPerS);
        var engine = new Engine(electrode, shortest, protocol.DurationS);
        return engine.Run(samples, sampleDt, sub, protocol.PotentialAt);
    }

    /// <summary>Simulates a potential step from rest (equilibrium) to the hold potential at t = 0.</summary>
    public static SimulatedCurve Hold(Electrode electrode, HoldProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(electrode);
        ArgumentNullException.ThrowIfNull(protocol);
        electrode.Validate();
        protocol.Validate();
        int samples = (int)Math.Floor(protocol.DurationS / protocol.IntervalS + 1e-9) + 1;
        const int sub = 4;
        var engine = new Engine(electrode, protocol.IntervalS / sub, protocol.DurationS);
        return engine.Run(samples, protocol.IntervalS, sub, t => t > 0 ? protocol.HoldV : protocol.RestV);
    }

    /// <summary>The implicit step shared by every technique: grids of all couples plus the electrode potential.</summary>
    internal sealed class Engine
    {
        private readonly Electrode _electrode;
        private readonly CoupleGrid[] _grids;
        private double _eEff, _eEffPrev;
        private bool _hasHistory;

        public Engine(Electrode electrode, double shortestTimeS, double totalTimeS)
        {
            _electrode = electrode;
            _grids = new CoupleGrid[electrode.Couples.Count];
            for (int i = 0; i < _grids.Length; i++)
                _grids[i] = new CoupleGrid(electrode.Couples[i], electrode.AreaCm2, electrode.TemperatureK, electrode.FilmThicknessCm, shortestTimeS, totalTimeS);
        }

        internal IReadOnlyList<CoupleGrid> Grids => _grids;

        public void Equilibrate(double potentialV)
        {
            foreach (var g in _grids) g.Equilibrate(potentialV);
            _eEff = _eEffPrev = potentialV;
            _hasHistory = false;
        }

        public SimulatedCurve Run(int samples, double sampleDt, int sub, Func<double, double> appliedAt)
        {
            var time = new double[samples];
            var potential = new double[samples];
            var current = new double[samples];
            var faradaic = new double[samples];
            double e0 = appliedAt(0);
            Equilibrate(e0);
            var noise = _electrode.NoiseRmsA > 0 ? new GaussianNoise(_electrode.NoiseSeed) : null;
            double dt = sampleDt / sub;
            double lastF = 0, lastTotal = 0;
            // The amplifier's first-order low-pass, integrated exactly over each internal step (input held).
            double? filterGain = _electrode.MeasurementBandwidthHz is { } bw ? 1 - Math.Exp(-2 * Math.PI * bw * dt) : null;
            double filtered = 0;
            for (int k = 0; k < samples; k++)
            {
                double t = k * sampleDt;
                if (k > 0)
                {
                    for (int s = 1; s <= sub; s++)
                    {
                        double ts = (k - 1) * sampleDt + s * dt;
                        (lastF, lastTotal) = StepPotentiostatic(dt, appliedAt(ts));
                        if (filterGain is { } g) filtered += g * (lastTotal - filtered);
                    }
                }
                if (filterGain is not null) lastTotal = filtered;
                double applied = appliedAt(t);
                time[k] = t;
                potential[k] = applied;
                faradaic[k] = lastF;
                double i = lastTotal + _electrode.LeakageAPerV * applied + _electrode.LeakageOffsetA;
                if (_electrode.BackgroundA is { } background) i += background(applied);
                if (noise is not null) i += _electrode.NoiseRmsA * noise.Next();
                current[k] = i;
            }
            return new SimulatedCurve(time, potential, current, faradaic);
        }

        /// <summary>One implicit step at a given applied potential; returns (Faradaic, Faradaic + charging) current.</summary>
        public (double FaradaicA, double TotalA) StepPotentiostatic(double dtS, double appliedV)
        {
            foreach (var g in _grids) g.Prepare(dtS);
            double beta = _hasHistory ? 1.5 : 1.0;
            double rhsE = _hasHistory ? 2 * _eEff - 0.5 * _eEffPrev : _eEff;
            double cdl = _electrode.DoubleLayerF;
            double ru = _electrode.UncompensatedOhm;
            double e = ru > 0
                ? SolveDecreasing(ev => appliedV - ev - ru * (Faradaic(ev) + cdl * (beta * ev - rhsE) / dtS), _eEff + (appliedV - _eEff) * 0.5)
                : appliedV;
            double f = Faradaic(e);
            double charging = cdl * (beta * e - rhsE) / dtS;
            foreach (var g in _grids) g.Commit();
            _eEffPrev = _eEff;
            _eEff = e;
            _hasHistory = true;
            return (f, f + charging);
        }

        /// <summary>One implicit step at a given total current (galvanostatic); returns the potential at the electrode.</summary>
        public double StepGalvanostatic(double dtS, double currentA)
        {
            foreach (var g in _grids) g.Prepare(dtS);
            double beta = _hasHistory ? 1.5 : 1.0;
            double rhsE = _hasHistory ? 2 * _eEff - 0.5 * _eEffPrev : _eEff;
            double cdl = _electrode.DoubleLayerF;
            double G(double ev) => currentA - Faradaic(ev) - cdl * (beta * ev - rhsE) / dtS;
            // Beyond what the film can deliver the potential runs away; 5 V past the last value is past any cut-off.
            const double runaway = 5;
            double e = G(_eEff + runaway) > 0 ? _eEff + runaway
                : G(_eEff - runaway) < 0 ? _eEff - runaway
                : SolveDecreasing(G, _eEff);
            Faradaic(e);
            foreach (var g in _grids) g.Commit();
            _eEffPrev = _eEff;
            _eEff = e;
            _hasHistory = true;
            return e;
        }

        private double Faradaic(double potentialV)
        {
            double sum = 0;
            foreach (var g in _grids) sum += g.CurrentA(potentialV);
            return sum;
        }

        /// <summary>Root of a strictly decreasing function: bracket by doubling, then Newton safeguarded by bisection.</summary>
        internal static double SolveDecreasing(Func<double, double> g, double guess)
        {
            double lo = guess, hi = guess, step = 1e-4;
            double glo = g(lo), ghi = glo;
            if (glo == 0) return guess;
            if (glo > 0)
            {
                while (ghi > 0) { lo = hi; glo = ghi; hi += step; step *= 2; ghi = g(hi); if (step > 1e6) throw new InvalidOperationException("potential solve diverged"); }
            }
            else
            {
                while (glo < 0) { hi = lo; ghi = glo; lo -= step; step *= 2; glo = g(lo); if (step > 1e6) throw new InvalidOperationException("potential solve diverged"); }
            }
            double x = 0.5 * (lo + hi);
            for (int it = 0; it < 100; it++)
            {
                double gx = g(x);
                if (gx > 0) lo = x; else hi = x;
                const double h = 1e-7;
                double slope = (g(x + h) - gx) / h;
                double next = slope < 0 ? x - gx / slope : double.NaN;
                bool newton = next > lo && next < hi;
                if (!newton) next = 0.5 * (lo + hi);
                // Converged when the step is far below any potential resolution (1 nV).
                if (Math.Abs(next - x) < 1e-9 || hi - lo < 1e-9) { x = next; break; }
                x = next;
            }
            return x;
        }
    }
}

/// <summary>Deterministic standard normal deviates (Box-Muller over a seeded System.Random).</summary>
internal sealed class GaussianNoise(int seed)
{
    private readonly Random _random = new(seed);
    private double _spare;
    private bool _hasSpare;

    public double Next()
    {
        if (_hasSpare) { _hasSpare = false; return _spare; }
        double u1 = 1.0 - _random.NextDouble();
        double u2 = _random.NextDouble();
        double r = Math.Sqrt(-2 * Math.Log(u1));
        _spare = r * Math.Sin(2 * Math.PI * u2);
        _hasSpare = true;
        return r * Math.Cos(2 * Math.PI * u2);
    }
}
