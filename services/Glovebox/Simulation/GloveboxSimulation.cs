using Seccm.Electrochemistry.Atmosphere;

namespace Seccm.Glovebox.Simulation;

/// <summary>What the simulated glovebox's sensors see at one instant.</summary>
public readonly record struct GloveboxConditions(double O2Ppm, double H2oPpm, double DewPointC, double PressureHPa);

/// <summary>Settings of the simulated glovebox.</summary>
public sealed record GloveboxSimulationOptions
{
    public int Seed { get; init; } = 1;

    /// <summary>Simulated seconds per real second (accelerated time for demos and tests).</summary>
    public double SpeedFactor { get; init; } = 1;

    public double BaselineO2Ppm { get; init; } = 1.0;

    public double BaselineDewPointC { get; init; } = -75;

    /// <summary>Argon overpressure of a glovebox, a few mbar above ambient.</summary>
    public double PressureHPa { get; init; } = 1016.5;
}

/// <summary>
/// A purified argon glovebox: O2 and H2O wander slowly around their baselines (Ornstein-Uhlenbeck drift in log
/// space, minutes of correlation) with fast sensor noise on top, and named scenarios add disturbances that the
/// purifier removes again. Time comes from the <see cref="TimeProvider"/>, scaled by the speed factor.
/// </summary>
public sealed class GloveboxSimulation
{
    /// <summary>Scenario names accepted by <see cref="Trigger"/>.</summary>
    public static readonly IReadOnlyList<string> Scenarios = ["normal", "leak", "regeneration"];

    private static readonly TimeSpan DriftCorrelation = TimeSpan.FromMinutes(10);
    private const double DriftSigma = 0.15;   // stationary spread of ln(value / baseline)
    private const double NoiseFraction = 0.02;
    private const double DewPointNoiseC = 0.1;
    private const double PumpOffO2CreepPpmPerHour = 0.3;
    private const double PumpOffH2oCreepPpmPerHour = 0.2;

    private readonly GloveboxSimulationOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Lock _lock = new();
    private readonly double _baselineH2oPpm;
    private long _lastTimestamp;
    private double _o2Drift;
    private double _h2oDrift;
    private double _pumpOffCreepO2Ppm;
    private double _pumpOffCreepH2oPpm;
    private Disturbance? _disturbance;
    private string _scenario = "normal";

    public GloveboxSimulation(TimeProvider time, GloveboxSimulationOptions? options = null)
    {
        _options = options ?? new GloveboxSimulationOptions();
        if (!(_options.SpeedFactor > 0) || !(_options.BaselineO2Ppm > 0) || !(_options.PressureHPa > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Speed factor, baseline O2 and pressure of the simulated glovebox must be positive.");
        }
        _time = time;
        _random = new Random(_options.Seed);
        _baselineH2oPpm = FrostPoint.PpmvFromFrostPointC(_options.BaselineDewPointC, _options.PressureHPa);
        _lastTimestamp = time.GetTimestamp();
    }

    /// <summary>Whether the circulation (purifier) pump runs; while it is off, O2 and H2O creep up slowly.</summary>
    public bool CirculationOn { get; set; } = true;

    /// <summary>The running scenario; it goes back to "normal" when its disturbance has been purified away.</summary>
    public string Scenario
    {
        get
        {
            lock (_lock)
            {
                Advance();
                return _scenario;
            }
        }
    }

    /// <summary>Starts a scenario by name (see <see cref="Scenarios"/>); "normal" ends any running one.</summary>
    public void Trigger(string scenario)
    {
        var disturbance = scenario switch
        {
            "normal" => null,
            // A glove pinhole: air gets in for 5 minutes, the purifier brings it back with a ~8 min time constant.
            "leak" => new Disturbance(PeakO2Ppm: 40, PeakH2oPpm: 40, Rise: TimeSpan.FromMinutes(2), Duration: TimeSpan.FromMinutes(5),
                Recovery: TimeSpan.FromMinutes(8)),
            // The purifier's regeneration: moisture climbs to a warning level for half an hour, O2 barely moves.
            "regeneration" => new Disturbance(PeakO2Ppm: 0.5, PeakH2oPpm: 7, Rise: TimeSpan.FromMinutes(10), Duration: TimeSpan.FromMinutes(30),
                Recovery: TimeSpan.FromMinutes(10)),
            _ => throw new ArgumentException(
                $"Unknown glovebox scenario '{scenario}'. Known scenarios: {string.Join(", ", Scenarios)}.", nameof(scenario)),
        };
        lock (_lock)
        {
            Advance();
            _disturbance = disturbance;
            _scenario = scenario;
        }
    }

    /// <summary>The sensors' view now: slow drift, scenario, pump-off creep and measurement noise.</summary>
    public GloveboxConditions Sample()
    {
        lock (_lock)
        {
            Advance();
            var (scenarioO2, scenarioH2o) = _disturbance?.Amount() ?? (0, 0);
            var o2 = _options.BaselineO2Ppm * Math.Exp(_o2Drift) + scenarioO2 + _pumpOffCreepO2Ppm;
            var h2o = _baselineH2oPpm * Math.Exp(_h2oDrift) + scenarioH2o + _pumpOffCreepH2oPpm;
            o2 = Math.Max(0, o2 * (1 + NoiseFraction * Gaussian()));
            h2o = Math.Max(1e-4, h2o * (1 + NoiseFraction * Gaussian()));
            var dewPointC = FrostPoint.FrostPointCFromPpmv(h2o, _options.PressureHPa) + DewPointNoiseC * Gaussian();
            var pressure = _options.PressureHPa + 0.05 * Gaussian();
            return new GloveboxConditions(o2, h2o, dewPointC, pressure);
        }
    }

    private void Advance()
    {
        var now = _time.GetTimestamp();
        var simulated = _time.GetElapsedTime(_lastTimestamp, now) * _options.SpeedFactor;
        _lastTimestamp = now;
        if (simulated <= TimeSpan.Zero)
        {
            return;
        }
        var seconds = simulated.TotalSeconds;
        // Exact OU update over any step, so a long gap costs the same as a short one.
        var decay = Math.Exp(-seconds / DriftCorrelation.TotalSeconds);
        var spread = DriftSigma * Math.Sqrt(1 - decay * decay);
        _o2Drift = _o2Drift * decay + spread * Gaussian();
        _h2oDrift = _h2oDrift * decay + spread * Gaussian();

        var hours = seconds / 3600;
        if (CirculationOn)
        {
            // The purifier removes the creep with the same few-minute time constant as a leak.
            var purge = Math.Exp(-seconds / TimeSpan.FromMinutes(8).TotalSeconds);
            _pumpOffCreepO2Ppm *= purge;
            _pumpOffCreepH2oPpm *= purge;
        }
        else
        {
            _pumpOffCreepO2Ppm += PumpOffO2CreepPpmPerHour * hours;
            _pumpOffCreepH2oPpm += PumpOffH2oCreepPpmPerHour * hours;
        }

        if (_disturbance is not null)
        {
            _disturbance.Elapsed += simulated;
            if (_disturbance.IsOver)
            {
                _disturbance = null;
                _scenario = "normal";
            }
        }
    }

    private double Gaussian()
    {
        // Box-Muller; 1 - NextDouble() avoids log(0).
        var u1 = 1 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private sealed record Disturbance(double PeakO2Ppm, double PeakH2oPpm, TimeSpan Rise, TimeSpan Duration, TimeSpan Recovery)
    {
        public TimeSpan Elapsed { get; set; }

        /// <summary>Over once the disturbance has decayed below 1 % of its peak.</summary>
        public bool IsOver => Elapsed > Duration + Recovery * Math.Log(100);

        public (double O2Ppm, double H2oPpm) Amount()
        {
            var atEnd = 1 - Math.Exp(-Duration / Rise);
            var fraction = Elapsed <= Duration
                ? 1 - Math.Exp(-Elapsed / Rise)
                : atEnd * Math.Exp(-(Elapsed - Duration) / Recovery);
            return (PeakO2Ppm * fraction, PeakH2oPpm * fraction);
        }
    }
}
