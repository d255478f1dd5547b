namespace Seccm.Stage.Drivers;

/// <summary>Settings of the simulated piezo. Defaults describe a 100 x 100 x 60 um closed-loop stage.</summary>
public sealed record SimulatedStageOptions
{
    public double TravelXUm { get; init; } = 100;
    public double TravelYUm { get; init; } = 100;
    public double TravelZUm { get; init; } = 60;

    /// <summary>Where the coarse Z drive has put the bottom of the piezo Z range; Z limits are [CoarseZUm, CoarseZUm + TravelZUm].</summary>
    public double CoarseZUm { get; init; }

    public double VelocityUmPerS { get; init; } = 10;
    public double MaxVelocityUmPerS { get; init; } = 1000;

    /// <summary>Time constant of the closed loop: the position lags a ramping setpoint by velocity x tau and settles exponentially.</summary>
    public double ServoTimeConstantS { get; init; } = 0.002;

    /// <summary>ONT? reports on target when the following error is below this window.</summary>
    public double OnTargetWindowUm { get; init; } = 0.005;

    /// <summary>Gaussian noise added to every position reading (sensor noise), nm rms.</summary>
    public double PositionNoiseNmRms { get; init; } = 1;

    public int Seed { get; init; } = 1;

    /// <summary>Start position; null puts X and Y at mid-travel and Z at the top (retracted).</summary>
    public StagePosition? InitialPosition { get; init; }

    /// <summary>Servo state at power-up. Real controllers start with the servo off.</summary>
    public bool ServoOnAtStart { get; init; }
}

/// <summary>
/// A simulated closed-loop piezo: each axis follows a setpoint that ramps at the set velocity, through a first-order
/// servo, so the position is known analytically at any instant of the injected <see cref="TimeProvider"/> (accelerated
/// or fake time costs nothing). Stop freezes the axes where they are.
/// </summary>
public sealed class SimulatedStage : IStage
{
    private readonly SimulatedStageOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _noise;
    private readonly StageLimits _limits;
    private readonly AxisState[] _axes = new AxisState[3];
    private readonly object _gate = new();
    private readonly long _originTimestamp;
    private bool _servoOn;

    public SimulatedStage(SimulatedStageOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _noise = new Random(options.Seed);
        _originTimestamp = time.GetTimestamp();
        _limits = new StageLimits(
            new AxisRange(0, options.TravelXUm),
            new AxisRange(0, options.TravelYUm),
            new AxisRange(options.CoarseZUm, options.CoarseZUm + options.TravelZUm));
        var start = options.InitialPosition
            ?? new StagePosition(options.TravelXUm / 2, options.TravelYUm / 2, options.CoarseZUm + options.TravelZUm);
        if (_limits.Check(new StageTarget(start.XUm, start.YUm, start.ZUm)) is { } problem)
        {
            throw new ArgumentException($"Simulated stage initial position: {problem}", nameof(options));
        }
        var now = Seconds();
        foreach (var axis in Enum.GetValues<StageAxis>())
        {
            _axes[(int)axis] = AxisState.AtRest(start[axis], now, options.VelocityUmPerS);
        }
        _servoOn = options.ServoOnAtStart;
    }

    public string Name => "simulated";

    /// <summary>The position without sensor noise: what the simulated world (contact, sample) sees.</summary>
    public StagePosition TruePosition
    {
        get
        {
            lock (_gate)
            {
                var t = Seconds();
                return new StagePosition(Actual(StageAxis.X, t), Actual(StageAxis.Y, t), Actual(StageAxis.Z, t));
            }
        }
    }

    public Task SetServoAsync(bool on, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!on)
            {
                FreezeAll(Seconds());
            }
            _servoOn = on;
        }
        return Task.CompletedTask;
    }

    public Task MoveAbsoluteAsync(StageTarget target, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            RequireServo();
            if (_limits.Check(target) is { } problem)
            {
                throw new StageCommandException($"Move refused: {problem}");
            }
            StartMoves(target);
        }
        return Task.CompletedTask;
    }

    public Task MoveRelativeAsync(StageTarget deltaUm, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            RequireServo();
            var target = new StageTarget(
                deltaUm.XUm is { } dx ? _axes[0].Target + dx : null,
                deltaUm.YUm is { } dy ? _axes[1].Target + dy : null,
                deltaUm.ZUm is { } dz ? _axes[2].Target + dz : null);
            if (_limits.Check(target) is { } problem)
            {
                throw new StageCommandException($"Relative move refused: {problem}");
            }
            StartMoves(target);
        }
        return Task.CompletedTask;
    }

    public Task<StagePosition> GetPositionAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var t = Seconds();
            return Task.FromResult(new StagePosition(
                Actual(StageAxis.X, t) + NoiseUm(),
                Actual(StageAxis.Y, t) + NoiseUm(),
                Actual(StageAxis.Z, t) + NoiseUm()));
        }
    }

    public Task<bool> IsOnTargetAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var t = Seconds();
            var onTarget = _servoOn && Enum.GetValues<StageAxis>().All(axis =>
            {
                var a = _axes[(int)axis];
                return t >= a.RampEndS && Math.Abs(a.Target - Actual(axis, t)) < _options.OnTargetWindowUm;
            });
            return Task.FromResult(onTarget);
        }
    }

    public Task SetVelocityAsync(StageAxis axis, double velocityUmPerS, CancellationToken cancellationToken)
    {
        if (!(velocityUmPerS > 0 && velocityUmPerS <= _options.MaxVelocityUmPerS))
        {
            throw new StageCommandException(FormattableString.Invariant(
                $"Velocity {velocityUmPerS} um/s for {axis} is outside (0, {_options.MaxVelocityUmPerS}] um/s."));
        }
        lock (_gate)
        {
            // A new velocity applies to the remaining part of a running move, as on the controller.
            var t = Seconds();
            var a = _axes[(int)axis];
            var setpoint = a.Setpoint(t);
            _axes[(int)axis] = a.StartRamp(setpoint, a.Error(t, _options.ServoTimeConstantS), a.Target, t, velocityUmPerS);
        }
        return Task.CompletedTask;
    }

    public Task<double> GetVelocityAsync(StageAxis axis, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_axes[(int)axis].VelocityUmPerS);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            FreezeAll(Seconds());
        }
        return Task.CompletedTask;
    }

    public Task<StageLimits> GetLimitsAsync(CancellationToken cancellationToken) => Task.FromResult(_limits);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private void RequireServo()
    {
        if (!_servoOn)
        {
            throw new StageCommandException("Move refused: the servo is off (switch it on first).");
        }
    }

    private void StartMoves(StageTarget target)
    {
        var t = Seconds();
        foreach (var axis in Enum.GetValues<StageAxis>())
        {
            if (target[axis] is { } um)
            {
                var a = _axes[(int)axis];
                // The new trajectory starts from the current setpoint and keeps the current following error,
                // so the position stays continuous when a move replaces a running one.
                _axes[(int)axis] = a.StartRamp(a.Setpoint(t), a.Error(t, _options.ServoTimeConstantS), um, t, a.VelocityUmPerS);
            }
        }
    }

    private void FreezeAll(double t)
    {
        foreach (var axis in Enum.GetValues<StageAxis>())
        {
            var a = _axes[(int)axis];
            _axes[(int)axis] = AxisState.AtRest(Actual(axis, t), t, a.VelocityUmPerS);
        }
    }

    private double Actual(StageAxis axis, double t)
    {
        var a = _axes[(int)axis];
        return a.Setpoint(t) - a.Error(t, _options.ServoTimeConstantS);
    }

    private double NoiseUm()
    {
        if (_options.PositionNoiseNmRms <= 0)
        {
            return 0;
        }
        // Box-Muller: one Gaussian sample per reading from the seeded generator.
        var u1 = 1.0 - _noise.NextDouble();
        var u2 = _noise.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2) * _options.PositionNoiseNmRms * 1e-3;
    }

    // Seconds since construction: raw timestamps are too large for double precision at the nm level.
    private double Seconds() => _time.GetElapsedTime(_originTimestamp).TotalSeconds;

    /// <summary>
    /// One axis: the setpoint ramps from <see cref="StartUm"/> at <see cref="StartS"/> towards <see cref="Target"/> at the
    /// velocity; the following error e = setpoint - position obeys de/dt = ramp slope - e/tau, solved in closed form.
    /// </summary>
    private readonly record struct AxisState(double StartUm, double StartErrorUm, double Target, double StartS, double SlopeUmPerS,
        double RampEndS, double VelocityUmPerS)
    {
        public static AxisState AtRest(double positionUm, double t, double velocityUmPerS) =>
            new(positionUm, 0, positionUm, t, 0, t, velocityUmPerS);

        public AxisState StartRamp(double fromUm, double errorUm, double toUm, double t, double velocityUmPerS)
        {
            var distance = toUm - fromUm;
            var duration = Math.Abs(distance) / velocityUmPerS;
            return new AxisState(fromUm, errorUm, toUm, t, duration > 0 ? distance / duration : 0, t + duration, velocityUmPerS);
        }

        public double Setpoint(double t) => t >= RampEndS ? Target : StartUm + SlopeUmPerS * (t - StartS);

        public double Error(double t, double tauS)
        {
            if (tauS <= 0)
            {
                return 0;
            }
            var rampS = Math.Max(0, Math.Min(t, RampEndS) - StartS);
            var errorAtRampEnd = SlopeUmPerS * tauS + (StartErrorUm - SlopeUmPerS * tauS) * Math.Exp(-rampS / tauS);
            return t <= RampEndS ? errorAtRampEnd : errorAtRampEnd * Math.Exp(-(t - RampEndS) / tauS);
        }
    }
}
