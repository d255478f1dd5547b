using System.Globalization;
using System.Text;
using Seccm.Devices.Serial;

namespace Seccm.Devices.Emulators.PiGcs;

/// <summary>One axis of the emulated controller.</summary>
public sealed record PiGcsAxisOptions(string Id, double MinUm, double MaxUm, double StartUm);

/// <summary>Settings of the emulated PI controller.</summary>
public sealed record PiGcsEmulatorOptions
{
    public IReadOnlyList<PiGcsAxisOptions> Axes { get; init; } =
    [
        new("1", 0, 100, 50),
        new("2", 0, 100, 50),
        new("3", 0, 60, 60),
    ];

    public double VelocityUmPerS { get; init; } = 100;
    public double MaxVelocityUmPerS { get; init; } = 1000;
    public string Identification { get; init; } = "(c)2026 Physik Instrumente (PI) GmbH & Co. KG, E-727 (seccm emulator), 0000000000, 1.0.0";

    /// <summary>The GCS syntax version <c>CSV?</c> answers: 2.0 (E-727, C-867) or 3.0 (newer controllers).</summary>
    public string SyntaxVersion { get; init; } = "2.0";

    /// <summary>Answers axis values as <c>1 = 10.5</c> instead of <c>1=10.5</c>, as some controllers and firmware do.</summary>
    public bool SpacesAroundEquals { get; init; }
}

/// <summary>
/// The device end of a PI GCS controller (E-727 / C-867 style) on a serial line: ASCII commands ending with LF, answers
/// where every line but the last ends with a space, an error register read and cleared by <c>ERR?</c>, and the single
/// byte commands #5 (motion mask, one bit per axis in the controller's order, as <c>SAI? ALL</c> lists them), #7 (ready)
/// and #24 (stop all). Axes move at a finite velocity on the injected clock. It also answers what a host library (PI's
/// PIPython) asks to learn the controller: <c>*IDN?</c>, <c>SAI?</c>, <c>SAI? ALL</c>, <c>CSV?</c>, <c>VER?</c>, <c>HLP?</c>.
/// </summary>
public sealed class PiGcsEmulator : IAsyncDisposable
{
    private static readonly byte[] Garbage = Encoding.ASCII.GetBytes("#!g@rbl~d=?\n");
    private readonly ISerialLine _line;
    private readonly TimeProvider _time;
    private readonly PiGcsEmulatorOptions _options;
    private readonly Dictionary<string, Axis> _axes;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _received = [];
    private readonly object _gate = new();
    private Task? _loop;
    private int _error;
    private int _garbleAnswers;
    private long _silentUntil = long.MinValue;
    private long _garbleUntil = long.MinValue;
    private int _garbleEveryNth;
    private int _answersWhileGarbling;
    private int _garbledAnswers;

    public PiGcsEmulator(ISerialLine line, TimeProvider time, PiGcsEmulatorOptions? options = null)
    {
        _line = line;
        _time = time;
        _options = options ?? new PiGcsEmulatorOptions();
        _axes = _options.Axes.ToDictionary(a => a.Id, a => new Axis(a, _options.VelocityUmPerS, time.GetTimestamp()), StringComparer.Ordinal);
    }

    /// <summary>Fault injection: when true the controller reads and ignores everything (a hung or unplugged device).</summary>
    public bool Silent { get; set; }

    /// <summary>
    /// Fault injection on the emulator's clock: the controller reads and ignores everything for <paramref name="duration"/>
    /// (a controller that hangs and comes back by itself, as after a brown-out), then answers again.
    /// </summary>
    public void StopAnsweringFor(TimeSpan duration) =>
        Interlocked.Exchange(ref _silentUntil, _time.GetTimestamp() + (long)(duration.TotalSeconds * _time.TimestampFrequency));

    /// <summary>
    /// Fault injection on the emulator's clock: for <paramref name="duration"/> every <paramref name="everyNth"/>-th answer
    /// (1: every answer) is replaced by a line of garbage, as from a noisy cable or a baud-rate glitch.
    /// </summary>
    public void GarbleAnswersFor(TimeSpan duration, int everyNth = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(everyNth, 1);
        Interlocked.Exchange(ref _garbleEveryNth, everyNth);
        Interlocked.Exchange(ref _answersWhileGarbling, 0);
        Interlocked.Exchange(ref _garbleUntil, _time.GetTimestamp() + (long)(duration.TotalSeconds * _time.TimestampFrequency));
    }

    /// <summary>True while the controller ignores everything (<see cref="Silent"/> or within <see cref="StopAnsweringFor"/>).</summary>
    public bool IsSilent => Silent || _time.GetTimestamp() < Interlocked.Read(ref _silentUntil);

    /// <summary>How many answers were replaced by garbage since the emulator started.</summary>
    public int GarbledAnswers => Volatile.Read(ref _garbledAnswers);

    /// <summary>Fault injection: when true #7 answers busy (0xB0).</summary>
    public bool Busy { get; set; }

    /// <summary>Fault injection: the next <paramref name="count"/> answers are replaced by one line of garbage each.</summary>
    public void GarbleNextAnswers(int count = 1) => Interlocked.Exchange(ref _garbleAnswers, count);

    /// <summary>Every line command received, in order (single-byte commands as "#5", "#7", "#24").</summary>
    public IReadOnlyList<string> ReceivedCommands
    {
        get
        {
            lock (_gate)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>Current position of an axis, for tests.</summary>
    public double PositionUm(string axis)
    {
        lock (_gate)
        {
            return _axes[axis].Position(_time);
        }
    }

    public bool IsServoOn(string axis)
    {
        lock (_gate)
        {
            return _axes[axis].ServoOn;
        }
    }

    public PiGcsEmulator Start()
    {
        _loop ??= Task.Run(RunAsync);
        return this;
    }

    private async Task RunAsync()
    {
        var pending = new List<byte>();
        while (!_stop.IsCancellationRequested)
        {
            byte b;
            try
            {
                b = (await _line.ReadBytesAsync(1, TimeSpan.FromSeconds(1), _stop.Token).ConfigureAwait(false))[0];
            }
            catch (DeviceTimeoutException)
            {
                continue;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (DeviceException)
            {
                return; // the port went away
            }

            byte[]? answer;
            switch (b)
            {
                case 0x05 or 0x07 or 0x18:
                    answer = SingleByte(b);
                    break;
                case (byte)'\n':
                    var text = Encoding.ASCII.GetString(pending.ToArray()).TrimEnd('\r');
                    pending.Clear();
                    if (IsSilent)
                    {
                        lock (_gate)
                        {
                            _received.Add(text);
                        }
                        continue;
                    }
                    answer = Execute(text);
                    break;
                default:
                    pending.Add(b);
                    continue;
            }
            if (answer is null || IsSilent)
            {
                continue;
            }
            if (Interlocked.Decrement(ref _garbleAnswers) >= 0)
            {
                answer = Garbage;
                Interlocked.Increment(ref _garbledAnswers);
            }
            else
            {
                Interlocked.Exchange(ref _garbleAnswers, 0);
                if (_time.GetTimestamp() < Interlocked.Read(ref _garbleUntil)
                    && Interlocked.Increment(ref _answersWhileGarbling) % Volatile.Read(ref _garbleEveryNth) == 0)
                {
                    answer = Garbage;
                    Interlocked.Increment(ref _garbledAnswers);
                }
            }
            try
            {
                await _line.WriteAsync(answer, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DeviceException or OperationCanceledException)
            {
                return;
            }
        }
    }

    private byte[]? SingleByte(byte b)
    {
        lock (_gate)
        {
            _received.Add("#" + b.ToString(CultureInfo.InvariantCulture));
            if (IsSilent)
            {
                return null;
            }
            switch (b)
            {
                case 0x05:
                    var mask = 0;
                    var bit = 1;
                    foreach (var axis in _options.Axes.Select(a => _axes[a.Id]))
                    {
                        if (!axis.OnTarget(_time))
                        {
                            mask |= bit;
                        }
                        bit <<= 1;
                    }
                    return Encoding.ASCII.GetBytes(mask.ToString("X", CultureInfo.InvariantCulture) + "\n");
                case 0x07:
                    return [Busy ? (byte)0xB0 : (byte)0xB1, (byte)'\n'];
                default:
                    StopAll();
                    return null;
            }
        }
    }

    private byte[]? Execute(string text)
    {
        lock (_gate)
        {
            _received.Add(text);
            var tokens = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length == 0)
            {
                return null;
            }
            var args = tokens.AsSpan(1).ToArray();
            switch (tokens[0])
            {
                case "*IDN?":
                    return Answer([_options.Identification]);
                case "SAI?" when args.Length == 0 || (args.Length == 1 && args[0] == "ALL"):
                    // The controller's axes in its order; ALL adds deactivated axes, of which the emulator has none.
                    return Answer(_options.Axes.Select(a => a.Id).ToArray());
                case "SAI?":
                    _error = GcsErrors.WrongNumberOfParameters;
                    return null;
                case "CSV?":
                    return Answer([_options.SyntaxVersion]);
                case "VER?":
                    return Answer(["E-727: seccm emulator, firmware 1.0.0", "PI_GCS2_DLL: not used"]);
                case "HLP?":
                    return Answer(["The following commands are valid:", .. HelpLines, "end of help"]);
                case "ERR?":
                    var code = _error;
                    _error = GcsErrors.None;
                    return Answer([code.ToString(CultureInfo.InvariantCulture)]);
                case "SVO":
                    SetPairs(args, (axis, value) => value is 0 or 1 ? GcsErrors.None : GcsErrors.ParameterOutOfRange,
                        (axis, value) =>
                        {
                            axis.Freeze(_time);
                            axis.ServoOn = value == 1;
                        });
                    return null;
                case "MOV" or "MVR":
                    var relative = tokens[0] == "MVR";
                    SetPairs(args,
                        (axis, value) =>
                        {
                            if (!axis.ServoOn)
                            {
                                return GcsErrors.MoveWithoutServo;
                            }
                            var target = relative ? axis.Target + value : value;
                            return target >= axis.Options.MinUm && target <= axis.Options.MaxUm ? GcsErrors.None : GcsErrors.PositionOutOfLimits;
                        },
                        (axis, value) => axis.MoveTo(relative ? axis.Target + value : value, _time));
                    return null;
                case "VEL":
                    SetPairs(args,
                        (axis, value) => value > 0 && value <= _options.MaxVelocityUmPerS ? GcsErrors.None : GcsErrors.VelocityOutOfLimits,
                        (axis, value) => axis.SetVelocity(value, _time));
                    return null;
                case "STP":
                    if (args.Length > 0)
                    {
                        _error = GcsErrors.WrongNumberOfParameters;
                        return null;
                    }
                    StopAll();
                    return null;
                case "POS?":
                    return Query(args, a => Number(a.Position(_time)));
                case "ONT?":
                    return Query(args, a => a.OnTarget(_time) ? "1" : "0");
                case "SVO?":
                    return Query(args, a => a.ServoOn ? "1" : "0");
                case "VEL?":
                    return Query(args, a => Number(a.VelocityUmPerS));
                case "TMN?":
                    return Query(args, a => Number(a.Options.MinUm));
                case "TMX?":
                    return Query(args, a => Number(a.Options.MaxUm));
                default:
                    _error = GcsErrors.UnknownCommand;
                    return null;
            }
        }
    }

    private void StopAll()
    {
        foreach (var axis in _axes.Values)
        {
            axis.Freeze(_time);
        }
        _error = GcsErrors.ControllerStopped;
    }

    /// <summary>Axis/value pairs: every pair is checked before any is applied, as the controller does.</summary>
    private void SetPairs(string[] args, Func<Axis, double, int> check, Action<Axis, double> apply)
    {
        if (args.Length == 0)
        {
            _error = GcsErrors.MissingParameter;
            return;
        }
        if (args.Length % 2 != 0)
        {
            _error = GcsErrors.WrongNumberOfParameters;
            return;
        }
        var pairs = new List<(Axis Axis, double Value)>();
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!_axes.TryGetValue(args[i], out var axis))
            {
                _error = GcsErrors.InvalidAxis;
                return;
            }
            if (!double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                _error = GcsErrors.InvalidFloat;
                return;
            }
            var code = check(axis, value);
            if (code != GcsErrors.None)
            {
                _error = code;
                return;
            }
            pairs.Add((axis, value));
        }
        foreach (var (axis, value) in pairs)
        {
            apply(axis, value);
        }
    }

    /// <summary>A query without axes answers for every axis. An unknown axis sets error 15 and answers nothing, like the controller.</summary>
    private byte[]? Query(string[] args, Func<Axis, string> value)
    {
        var axes = new List<Axis>();
        foreach (var id in args.Length == 0 ? _options.Axes.Select(a => a.Id).ToArray() : args)
        {
            if (!_axes.TryGetValue(id, out var axis))
            {
                _error = GcsErrors.InvalidAxis;
                return null;
            }
            axes.Add(axis);
        }
        var equals = _options.SpacesAroundEquals ? " = " : "=";
        return Answer(axes.Select(a => a.Options.Id + equals + value(a)).ToArray());
    }

    private static readonly string[] HelpLines =
    [
        "#5 Request Motion Status", "#7 Request Controller Ready Status", "#24 Stop All Axes", "*IDN? Get Device Identification",
        "CSV? Get Current Syntax Version", "ERR? Get Error Number", "HLP? Get List Of Available Commands",
        "MOV {<AxisID> <Position>} Set Target Position", "MVR {<AxisID> <Distance>} Set Target Relative To Current Position",
        "ONT? [{<AxisID>}] Get On Target State", "POS? [{<AxisID>}] Get Real Position", "SAI? [ALL] Get List Of Current Axis Identifiers",
        "STP Stop All Axes", "SVO {<AxisID> <ServoState>} Set Servo Mode", "SVO? [{<AxisID>}] Get Servo Mode",
        "TMN? [{<AxisID>}] Get Minimum Commandable Position", "TMX? [{<AxisID>}] Get Maximum Commandable Position",
        "VEL {<AxisID> <Velocity>} Set Closed-Loop Velocity", "VEL? [{<AxisID>}] Get Closed-Loop Velocity", "VER? Get Versions Of Firmware And Drivers",
    ];

    private static byte[] Answer(IReadOnlyList<string> lines)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            sb.Append(lines[i]).Append(i < lines.Count - 1 ? " \n" : "\n");
        }
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    private static string Number(double value) => value.ToString("0.0#####", CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
        _stop.Dispose();
    }

    /// <summary>An axis moving at constant velocity from <see cref="_fromUm"/> (at <see cref="_startTimestamp"/>) to <see cref="Target"/>.</summary>
    private sealed class Axis(PiGcsAxisOptions options, double velocityUmPerS, long now)
    {
        private double _fromUm = options.StartUm;
        private long _startTimestamp = now;

        public PiGcsAxisOptions Options { get; } = options;
        public double Target { get; private set; } = options.StartUm;
        public double VelocityUmPerS { get; private set; } = velocityUmPerS;
        public bool ServoOn { get; set; }

        public double Position(TimeProvider time)
        {
            var travelled = VelocityUmPerS * time.GetElapsedTime(_startTimestamp).TotalSeconds;
            var distance = Target - _fromUm;
            return Math.Abs(distance) <= travelled ? Target : _fromUm + Math.Sign(distance) * travelled;
        }

        public bool OnTarget(TimeProvider time) => Position(time) == Target;

        public void MoveTo(double targetUm, TimeProvider time)
        {
            _fromUm = Position(time);
            _startTimestamp = time.GetTimestamp();
            Target = targetUm;
        }

        public void SetVelocity(double velocityUmPerS, TimeProvider time)
        {
            MoveTo(Target, time);
            VelocityUmPerS = velocityUmPerS;
        }

        public void Freeze(TimeProvider time) => MoveTo(Position(time), time);
    }
}
