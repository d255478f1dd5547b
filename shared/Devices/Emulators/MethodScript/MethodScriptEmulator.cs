using System.Globalization;
using System.Text;
using Seccm.Devices.Serial;
using Seccm.Electrochemistry.Simulation;

namespace Seccm.Devices.Emulators.MethodScript;

/// <summary>What the emulated device does wrong, to test that drivers cope.</summary>
public enum MethodScriptFault
{
    /// <summary>Behaves like a healthy device.</summary>
    None,

    /// <summary>Reads everything, answers nothing (unplugged, crashed firmware).</summary>
    Silent,

    /// <summary>Answers every command and script with the error <see cref="MethodScriptEmulator.ErrorCode"/>.</summary>
    ErrorReply,

    /// <summary>Starts a script normally, then sends bytes that are no MethodSCRIPT reply.</summary>
    Garbage,
}

/// <summary>Which PalmSens device the emulator is: its firmware prefix, current range codes and galvanostatic mode follow.</summary>
public enum MethodScriptDevice
{
    /// <summary>An EmStat4 LR (version "es4_lr..."): ranges 1 nA - 10 mA, galvanostatic mode 6.</summary>
    EmStat4Lr,

    /// <summary>An EmStat Pico (version "espico..."): high-speed ranges 100 nA - 5 mA, no galvanostatic mode.</summary>
    EmStatPico,
}

/// <summary>
/// The device side of a PalmSens EmStat over a serial line, byte for byte: <c>t</c> (version), <c>e</c> + script +
/// blank line (run), <c>Z</c> (abort). Scripts are parsed as strictly as the device parses them and run as it runs
/// them: variables, <c>timer_start</c>/<c>timer_get</c>, <c>if</c> blocks and a loop's <c>breakloop</c> conditions
/// after each point. CV currents come from our CV simulator with the electrode that <c>electrode</c> returns when a
/// measurement loop starts (the material under the pipette, or a dry electrode before contact); CA (hold) currents with
/// the electrode it returns at each sample, each spot stepped from its open circuit (the full Cottrell jump), so an
/// approach's hold sees the meniscus touch down when <c>electrode</c> follows the stage;
/// chronopotentiometry (<c>meas_loop_cp</c>) potentials from our galvanostatic cell, one per script, created at the
/// script's first CP loop so that charge and discharge loops share the film's state.
/// </summary>
public sealed class MethodScriptEmulator : IAsyncDisposable
{
    /// <summary>The firmware string an EmStat4 LR sends for <c>t</c>; the version reply ends with '*' on its last line.</summary>
    public const string FirmwareVersion = "es4_lr1.3";

    /// <summary>The firmware string an EmStat Pico sends for <c>t</c>.</summary>
    public const string PicoFirmwareVersion = "espico1.3";

    /// <summary>
    /// A hold longer than this many samples is simulated once and its last current continued: bounded memory, and bounded
    /// time, since a touch-down's transient is computed while its samples are due (4000 take tens of ms, 20 000 a quarter
    /// of a second, in which an approach goes on down).
    /// </summary>
    private const int MaxSimulatedHoldSamples = 4_000;

    private readonly ISerialLine _line;
    private readonly Func<Electrode> _electrode;
    private readonly TimeProvider _time;
    private readonly bool _realTime;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Random _garbage = new(7);
    private Task? _loop;
    private Task? _script;
    private CancellationTokenSource? _abort;

    /// <param name="line">The device end of the serial line.</param>
    /// <param name="electrode">
    /// The wetted electrode now; called at the start of every measurement loop and before every sample of a CA loop, where
    /// an electrode unequal to the last means the meniscus touched another spot (or left it).
    /// </param>
    /// <param name="time">Paces the samples at the scan's real rate (accelerate it with a fake or scaled clock).</param>
    /// <param name="realTime">False sends samples as fast as the line takes them (fast tests).</param>
    public MethodScriptEmulator(ISerialLine line, Func<Electrode> electrode, TimeProvider? time = null, bool realTime = true)
    {
        _line = line;
        _electrode = electrode;
        _time = time ?? TimeProvider.System;
        _realTime = realTime;
    }

    public MethodScriptFault Fault { get; set; }

    /// <summary>Which device this is (default: an EmStat4 LR).</summary>
    public MethodScriptDevice Device { get; init; }

    /// <summary>What <c>t</c> answers (first line).</summary>
    public string Firmware => Device == MethodScriptDevice.EmStatPico ? PicoFirmwareVersion : FirmwareVersion;

    /// <summary>
    /// Fault injection: status bits (metadata <c>1X</c>: 0x1 timing error, 0x2 overload, 0x4 underload) added to the current
    /// of sample k (0-based) of measurement loop m (0-based) of each script, as <c>(m, k) =&gt; bits</c>.
    /// </summary>
    public Func<int, long, int>? ExtraStatus { get; set; }

    /// <summary>Fault injection: the current of sample k of measurement loop m is sent as <c>nan</c> when this says so.</summary>
    public Func<int, long, bool>? NanCurrent { get; set; }

    /// <summary>The code sent under <see cref="MethodScriptFault.ErrorReply"/>.</summary>
    public int ErrorCode { get; set; } = 0x0001;

    /// <summary>Whether the cell is switched on now.</summary>
    public bool CellOn { get; private set; }

    /// <summary>Lines of the last script received (without the <c>e</c> and the blank line).</summary>
    public IReadOnlyList<string> LastScript { get; private set; } = [];

    /// <summary>How many scripts ran to their end, aborted ones included.</summary>
    public int ScriptsFinished { get; private set; }

    /// <summary>Starts answering on the line in the background.</summary>
    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        List<string>? script = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            string received;
            try
            {
                received = await _line.ReadLineAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
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
                return; // the host end went away
            }
            if (Fault == MethodScriptFault.Silent)
            {
                continue;
            }
            if (script is not null)
            {
                if (received.Length > 0)
                {
                    script.Add(received);
                    continue;
                }
                LastScript = script;
                await StartScriptAsync(script).ConfigureAwait(false);
                script = null;
                continue;
            }
            switch (received)
            {
                case "":
                    break;
                case "t":
                    await ReplyAsync(Fault == MethodScriptFault.ErrorReply ? $"t!{ErrorCode:X4}\n" : $"t{Firmware}\n#seccm emulator*\n").ConfigureAwait(false);
                    break;
                case "e":
                    if (_script is { IsCompleted: false })
                    {
                        await ReplyAsync("e!0001\n").ConfigureAwait(false);
                        break;
                    }
                    await ReplyAsync("e\n").ConfigureAwait(false);
                    script = [];
                    break;
                case "Z":
                    if (_script is { IsCompleted: false } && _abort is not null)
                    {
                        await ReplyAsync("Z\n").ConfigureAwait(false);
                        await _abort.CancelAsync().ConfigureAwait(false);
                    }
                    else
                    {
                        await ReplyAsync("Z!0006\n").ConfigureAwait(false);
                    }
                    break;
                default:
                    await ReplyAsync($"{received[0]}!0003\n").ConfigureAwait(false);
                    break;
            }
        }
    }

    private async Task StartScriptAsync(List<string> lines)
    {
        if (Fault == MethodScriptFault.ErrorReply)
        {
            await ReplyAsync($"!{ErrorCode:X4}: Line 1, Col 1\n\n").ConfigureAwait(false);
            return;
        }
        var (script, error) = EmulatedScript.Parse(lines, galvanostatic: Device != MethodScriptDevice.EmStatPico);
        if (error is not null)
        {
            await ReplyAsync(string.Create(CultureInfo.InvariantCulture, $"!{error.Code:X4}: Line {error.Line}, Col {error.Column}\n\n")).ConfigureAwait(false);
            return;
        }
        _abort?.Dispose();
        _abort = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var abort = _abort.Token;
        _script = Task.Run(() => ExecuteAsync(script!, abort));
    }

    private async Task ExecuteAsync(EmulatedScript script, CancellationToken abort)
    {
        var run = new ScriptRun(script);
        try
        {
            await ExecuteBlockAsync(script.Main, run, abort).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
        }
        catch (DeviceException)
        {
            return; // the line is gone: nobody to finish the script for
        }
        foreach (var statement in script.OnFinished)
        {
            if (statement is CellStatement cell)
            {
                CellOn = cell.On;
            }
        }
        try
        {
            await ReplyAsync("\n").ConfigureAwait(false);
        }
        catch (DeviceException)
        {
        }
        ScriptsFinished++;
    }

    private async Task ExecuteBlockAsync(IReadOnlyList<ScriptStatement> statements, ScriptRun run, CancellationToken abort)
    {
        foreach (var statement in statements)
        {
            abort.ThrowIfCancellationRequested();
            switch (statement)
            {
                case CellStatement cell:
                    CellOn = cell.On;
                    break;
                case SetRangeStatement range:
                    run.RangeA = range.RangeA;
                    break;
                case TimerStartStatement:
                    run.TimerOriginS = run.ClockS;
                    break;
                case TimerGetStatement get:
                    run.Variables[get.Variable] = run.ClockS - run.TimerOriginS;
                    break;
                case IfStatement conditional when conditional.Condition.Holds(run.Read(conditional.Condition.Variable)):
                    await ExecuteBlockAsync(conditional.Body, run, abort).ConfigureAwait(false);
                    break;
                case MeasLoopStatement loop:
                    await MeasureAsync(loop, run, abort).ConfigureAwait(false);
                    break;
            }
        }
    }

    private async Task MeasureAsync(MeasLoopStatement loop, ScriptRun run, CancellationToken abort)
    {
        // The measurement-type code after 'M' is not read by drivers; CV and CA send the device's own.
        await ReplyAsync(loop.IsCv ? "M0002\n" : "M0007\n").ConfigureAwait(false);
        var loopIndex = run.LoopsStarted++;
        // A CV of more than one scan (nscans(n), n > 1) opens every scan with 'C' and closes it with '-', the last included.
        var scans = loop.IsCv && loop.Scans > 1;
        if (Fault == MethodScriptFault.Garbage)
        {
            var junk = new byte[40];
            _garbage.NextBytes(junk);
            for (var i = 0; i < junk.Length; i++)
            {
                junk[i] = junk[i] is (byte)'\n' or (byte)'\r' ? (byte)'?' : junk[i];
            }
            await WriteAsync([.. junk, (byte)'\n']).ConfigureAwait(false);
        }
        var points = Points(loop, run);
        var interval = loop.IsCv ? loop.StepV / loop.ScanRateVPerS : loop.IntervalS;
        var start = _time.GetTimestamp();
        var batch = new StringBuilder(scans ? "C0000\n" : "");
        long k = 0;
        foreach (var (potential, current, scanEnded) in points)
        {
            if (scanEnded)
            {
                batch.Append("-\nC0000\n");
            }
            run.ClockS += k == 0 && loop.Kind != LoopKind.Cp ? 0 : interval;
            run.Variables[loop.PotentialVariable] = potential;
            run.Variables[loop.CurrentVariable] = current;
            var stop = false;
            foreach (var command in loop.Body)
            {
                switch (command)
                {
                    case SendPackage:
                        AppendPackage(batch, loop, run, (ExtraStatus?.Invoke(loopIndex, k) ?? 0) & 0xF, NanCurrent?.Invoke(loopIndex, k) ?? false);
                        break;
                    case TimerGet get:
                        run.Variables[get.Variable] = run.ClockS - run.TimerOriginS;
                        break;
                    case BreakIf breakIf when breakIf.Condition.Holds(run.Read(breakIf.Condition.Variable)):
                        stop = true;
                        break;
                }
                if (stop)
                {
                    break;
                }
            }
            if (_realTime)
            {
                var due = TimeSpan.FromSeconds((k + 1) * interval);
                var wait = due - _time.GetElapsedTime(start);
                if (wait > TimeSpan.FromMilliseconds(5))
                {
                    await FlushAsync(batch).ConfigureAwait(false);
                    await Task.Delay(wait, _time, abort).ConfigureAwait(false);
                }
            }
            if (batch.Length > 4096)
            {
                await FlushAsync(batch).ConfigureAwait(false);
            }
            abort.ThrowIfCancellationRequested();
            k++;
            if (stop)
            {
                break;
            }
        }
        batch.Append(scans ? "-\n*\n" : "*\n");
        await FlushAsync(batch).ConfigureAwait(false);
    }

    /// <summary>
    /// The loop's points in order: potential, current, and whether a scan of an <c>nscans()</c> CV ended just
    /// before. CV and CA are simulated at once; CP steps the script's galvanostatic cell one point at a time, since
    /// the script decides after each point whether the loop goes on.
    /// </summary>
    private IEnumerable<(double PotentialV, double CurrentA, bool ScanEnded)> Points(MeasLoopStatement loop, ScriptRun run)
    {
        if (loop.Kind == LoopKind.Cp)
        {
            run.Cell ??= new GalvanostaticCell(_electrode(), run.RestPotentialV, run.ShortestCpIntervalS, run.TotalCpDurationS);
            var steps = (long)Math.Floor(loop.DurationS / loop.IntervalS + 1e-9);
            for (long k = 0; k < steps; k++)
            {
                var (potential, current) = run.Cell.Step(loop.IntervalS, loop.CurrentA);
                yield return (potential, current, false);
            }
            yield break;
        }
        var electrode = _electrode();
        if (loop.IsCv)
        {
            var curve = CvSimulator.Cv(electrode, new CvProtocol(loop.BeginV, loop.Vertex1V, loop.Vertex2V, loop.StepV, loop.ScanRateVPerS, loop.Scans));
            var perScan = Math.Max(1, (curve.Count - 1) / loop.Scans);
            for (var k = 0; k < curve.Count; k++)
            {
                yield return (curve.PotentialV[k], curve.CurrentA[k], k > 0 && k % perScan == 0 && k / perScan < loop.Scans);
            }
            yield break;
        }
        // The potential steps from the wetted spot's open circuit to the hold's at the loop's start. The device measures
        // the cell as it is at each sample: the electrode is asked again before every one, and when another electrode is
        // wetted (the meniscus touched down or left) its transient starts at that sample.
        var samples = (long)Math.Floor(loop.DurationS / loop.IntervalS + 1e-9) + 1;
        var hold = HoldCurrent(electrode, HoldProtocol.OnFreshSpot(electrode, loop.HoldV, 0, loop.IntervalS), samples);
        long from = 0;
        for (long k = 0; k < samples; k++)
        {
            var now = k == 0 ? electrode : _electrode();
            if (!now.Equals(electrode))
            {
                electrode = now;
                from = k;
                hold = HoldCurrent(electrode, HoldProtocol.OnFreshSpot(electrode, loop.HoldV, 0, loop.IntervalS), samples - k);
            }
            // Sample 0 of a fresh spot's transient is its rest state: the contact shows from the sample it is seen at.
            var i = k - from + (from > 0 ? 1 : 0);
            yield return (loop.HoldV, hold[(int)Math.Min(i, hold.Length - 1)], false);
        }
    }

    /// <summary>The current of a hold of <paramref name="samples"/> samples, at most <see cref="MaxSimulatedHoldSamples"/> of them simulated.</summary>
    private static double[] HoldCurrent(Electrode electrode, HoldProtocol protocol, long samples)
    {
        var simulated = Math.Min(samples, MaxSimulatedHoldSamples);
        return CvSimulator.Hold(electrode, protocol with { DurationS = simulated * protocol.IntervalS }).CurrentA;
    }

    private void AppendPackage(StringBuilder batch, MeasLoopStatement loop, ScriptRun run, int extraStatus, bool nanCurrent)
    {
        batch.Append('P');
        var first = true;
        foreach (var variable in loop.PackageVariables)
        {
            if (!first)
            {
                batch.Append(';');
            }
            first = false;
            var value = run.Read(variable);
            if (variable == loop.PotentialVariable)
            {
                // A CV or CA reports the potential it sets (da), chronopotentiometry the one it measures (ab).
                batch.Append(loop.Kind == LoopKind.Cp ? "ab" : "da").Append(Encode(value, 'u', 1e-6));
            }
            else if (variable == loop.CurrentVariable)
            {
                var status = (Math.Abs(value) > run.RangeA * 1.2 ? 2 : 0) | extraStatus;
                // In galvanostatic mode the loop's current variable is the applied current (db), otherwise the measured one (ba).
                // A value the device cannot measure is "nan", space-padded to the 8 characters of digits and prefix.
                batch.Append(loop.Kind == LoopKind.Cp ? "db" : "ba").Append(nanCurrent ? "     nan" : EncodeCurrent(value))
                    .Append(",1").Append(status.ToString("X1", CultureInfo.InvariantCulture))
                    .Append(",2").Append(RangeCode(run.RangeA).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                batch.Append("eb").Append(Encode(value, 'u', 1e-6)); // another variable (a time from timer_get)
            }
        }
        batch.Append('\n');
    }

    /// <summary>Value = (hex - 0x8000000) x prefix: 7 hex digits and the prefix character.</summary>
    private static string Encode(double value, char prefix, double factor)
    {
        var mantissa = (long)Math.Round(value / factor);
        mantissa = Math.Clamp(mantissa, -0x8000000L, 0x7FFFFFFL);
        return (mantissa + 0x8000000L).ToString("X7", CultureInfo.InvariantCulture) + prefix;
    }

    /// <summary>Currents go with the finest prefix that still fits 28 bits, as the device keeps its resolution.</summary>
    private static string EncodeCurrent(double currentA)
    {
        foreach (var (prefix, factor) in new[] { ('a', 1e-18), ('f', 1e-15), ('p', 1e-12), ('n', 1e-9), ('u', 1e-6), ('m', 1e-3) })
        {
            if (Math.Abs(currentA / factor) < 0x7FFFFFF)
            {
                return Encode(currentA, prefix, factor);
            }
        }
        return Encode(currentA, ' ', 1);
    }

    /// <summary>
    /// The current range metadata code the device reports, from the tables of PalmSens' own parser: the EmStat4's
    /// codes 3, 6, ... 27 for 1 nA ... 100 mA; the Pico's high-speed codes 128-137 (100 nA ... 5 mA), the smallest range
    /// that holds <paramref name="rangeA"/>.
    /// </summary>
    private int RangeCode(double rangeA)
    {
        if (Device == MethodScriptDevice.EmStatPico)
        {
            double[] pico = [100e-9, 1e-6, 6e-6, 13e-6, 25e-6, 50e-6, 100e-6, 200e-6, 1e-3, 5e-3];
            var i = Array.FindIndex(pico, r => r >= rangeA * (1 - 1e-9));
            return 128 + (i < 0 ? pico.Length - 1 : i);
        }
        return 3 * (1 + Math.Clamp((int)Math.Round(Math.Log10(rangeA / 1e-9)), 0, 8));
    }

    private async Task FlushAsync(StringBuilder batch)
    {
        if (batch.Length == 0)
        {
            return;
        }
        var text = batch.ToString();
        batch.Clear();
        await ReplyAsync(text).ConfigureAwait(false);
    }

    private ValueTask ReplyAsync(string text) => WriteAsync(Encoding.ASCII.GetBytes(text));

    private async ValueTask WriteAsync(byte[] bytes)
    {
        await _writing.WaitAsync(_stop.Token).ConfigureAwait(false);
        try
        {
            await _line.WriteAsync(bytes, _stop.Token).ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _loop, _script })
        {
            if (task is not null)
            {
                try
                {
                    await task.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
        _abort?.Dispose();
        _stop.Dispose();
        _writing.Dispose();
    }

    /// <summary>The state of one running script: variables, the timer, the current range and the galvanostatic cell.</summary>
    private sealed class ScriptRun
    {
        public ScriptRun(EmulatedScript script)
        {
            var cp = CpLoops(script.Main).ToList();
            if (cp.Count == 0)
            {
                return;
            }
            ShortestCpIntervalS = cp.Min(l => l.IntervalS);
            TotalCpDurationS = Math.Max(cp.Sum(l => l.DurationS), ShortestCpIntervalS);
            // The film rests discharged, as our simulator starts it: at the lowest potential a cut-off tests for.
            var cutoffs = cp.SelectMany(l => l.Body.OfType<BreakIf>().Where(b => b.Condition.Variable == l.PotentialVariable)).ToList();
            var lower = cutoffs.Where(b => b.Condition.Operator is "<" or "<=").Select(b => b.Condition.Value).DefaultIfEmpty(double.NaN).Min();
            RestPotentialV = double.IsNaN(lower) ? cutoffs.Select(b => b.Condition.Value).DefaultIfEmpty(0).Min() : lower;
        }

        public Dictionary<string, double> Variables { get; } = new(StringComparer.Ordinal);

        public double RangeA { get; set; } = 1e-6;

        /// <summary>Measurement loops started so far in this script.</summary>
        public int LoopsStarted { get; set; }

        /// <summary>Seconds of measurement the script has run (the emulated device's clock).</summary>
        public double ClockS { get; set; }

        public double TimerOriginS { get; set; }

        public GalvanostaticCell? Cell { get; set; }

        public double ShortestCpIntervalS { get; }

        public double TotalCpDurationS { get; }

        public double RestPotentialV { get; }

        /// <summary>A declared variable that was never set reads 0, as on the device.</summary>
        public double Read(string variable) => Variables.GetValueOrDefault(variable);

        private static IEnumerable<MeasLoopStatement> CpLoops(IEnumerable<ScriptStatement> statements) =>
            statements.SelectMany(s => s switch
            {
                MeasLoopStatement { Kind: LoopKind.Cp } loop => [loop],
                IfStatement conditional => CpLoops(conditional.Body),
                _ => Enumerable.Empty<MeasLoopStatement>(),
            });
    }
}
