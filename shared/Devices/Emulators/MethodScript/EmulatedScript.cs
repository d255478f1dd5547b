using System.Globalization;

namespace Seccm.Devices.Emulators.MethodScript;

/// <summary>A statement of a MethodSCRIPT the emulator understands.</summary>
internal abstract record ScriptStatement(int Line);

internal sealed record CellStatement(int Line, bool On) : ScriptStatement(Line);

internal sealed record SetRangeStatement(int Line, double RangeA) : ScriptStatement(Line);

/// <summary><c>timer_start</c>: the script's timer restarts at 0.</summary>
internal sealed record TimerStartStatement(int Line) : ScriptStatement(Line);

/// <summary><c>timer_get v</c>: seconds since <c>timer_start</c> into a variable.</summary>
internal sealed record TimerGetStatement(int Line, string Variable) : ScriptStatement(Line);

/// <summary><c>if v op number</c> ... <c>endif</c> around statements (no <c>else</c>).</summary>
internal sealed record IfStatement(int Line, Condition Condition, IReadOnlyList<ScriptStatement> Body) : ScriptStatement(Line);

/// <summary>A comparison of a variable with a number, as <c>if</c> takes it.</summary>
internal sealed record Condition(string Variable, string Operator, double Value)
{
    public bool Holds(double value) => Operator switch
    {
        "<" => value < Value,
        "<=" => value <= Value,
        ">" => value > Value,
        ">=" => value >= Value,
        "==" => value == Value,
        _ => value != Value,
    };
}

internal enum LoopKind
{
    Cv,
    Ca,
    Cp,
}

/// <summary>What a measurement loop does after each measured point, in script order.</summary>
internal abstract record LoopCommand;

/// <summary>The <c>pck_start</c> ... <c>pck_end</c> block: send one data package.</summary>
internal sealed record SendPackage : LoopCommand;

internal sealed record TimerGet(string Variable) : LoopCommand;

/// <summary><c>if v op number</c>, <c>breakloop</c>, <c>endif</c>: leave the loop once the condition holds.</summary>
internal sealed record BreakIf(Condition Condition) : LoopCommand;

/// <summary>
/// A measurement loop. CV: begin, vertex 1, vertex 2, step, rate and <paramref name="Scans"/>. CA: <paramref name="HoldV"/>.
/// CP: <paramref name="CurrentA"/> (anodic +). CA and CP sample every <paramref name="IntervalS"/> for <paramref name="DurationS"/>.
/// <paramref name="PackageVariables"/> are the <c>pck_add</c> variables in order.
/// </summary>
internal sealed record MeasLoopStatement(
    int Line, LoopKind Kind, string PotentialVariable, string CurrentVariable,
    double BeginV, double Vertex1V, double Vertex2V, double StepV, double ScanRateVPerS, int Scans,
    double HoldV, double CurrentA, double IntervalS, double DurationS,
    IReadOnlyList<string> PackageVariables, IReadOnlyList<LoopCommand> Body) : ScriptStatement(Line)
{
    public bool IsCv => Kind == LoopKind.Cv;
}

/// <summary>The script could not be accepted: the MethodSCRIPT error code and where.</summary>
internal sealed record ScriptError(int Code, int Line, int Column);

/// <summary>Parses the lines between <c>e</c> and the blank line into statements, as strictly as the device.</summary>
internal sealed class EmulatedScript
{
    /// <summary>Commands of the real language that this emulator does not run: the device answers them 4205.</summary>
    private static readonly HashSet<string> KnownUnsupported =
    [
        "meas_loop_lsv", "meas_loop_dpv", "meas_loop_swv", "meas_loop_npv", "meas_loop_eis", "meas_loop_ocp",
        "meas_loop_pad", "meas_loop_acv", "loop", "else", "elseif", "send_string", "store_var", "add_var", "sub_var",
        "copy_var", "file_open", "set_gpio", "set_gpio_cfg",
    ];

    private static readonly HashSet<string> Ignored =
        ["set_pgstat_chan", "set_max_bandwidth", "set_e", "set_i", "set_autoranging", "set_acquisition_frac_autoadjust", "wait", "set_poly_we_mode"];

    private static readonly HashSet<string> Operators = ["<", "<=", ">", ">=", "==", "!="];

    private readonly IReadOnlyList<string> _lines;
    private readonly HashSet<string> _variables = new(StringComparer.Ordinal);
    private readonly bool _galvanostatic;
    private int _i;

    private EmulatedScript(IReadOnlyList<string> lines, bool galvanostatic = true)
    {
        _lines = lines;
        _galvanostatic = galvanostatic;
    }

    public required IReadOnlyList<ScriptStatement> Main { get; init; }

    public required IReadOnlyList<ScriptStatement> OnFinished { get; init; }

    /// <param name="lines">The script lines between <c>e</c> and the blank line.</param>
    /// <param name="galvanostatic">Whether the device has the galvanostatic mode 6 (an EmStat4; a Pico answers 4205).</param>
    public static (EmulatedScript? Script, ScriptError? Error) Parse(IReadOnlyList<string> lines, bool galvanostatic = true)
    {
        var parser = new EmulatedScript(lines, galvanostatic) { Main = [], OnFinished = [] };
        var main = new List<ScriptStatement>();
        var onFinished = new List<ScriptStatement>();
        var error = parser.ParseBlock(main, null, onFinished);
        return error is null ? (new EmulatedScript(lines, galvanostatic) { Main = main, OnFinished = onFinished }, null) : (null, error);
    }

    /// <summary>
    /// Parses statements into <paramref name="target"/> until the end of the script or, inside an <c>if</c>
    /// (<paramref name="ifLine"/> set), its <c>endif</c>. <paramref name="onFinished"/> is where <c>on_finished:</c>
    /// switches to (top level only).
    /// </summary>
    private ScriptError? ParseBlock(List<ScriptStatement> target, int? ifLine, List<ScriptStatement>? onFinished)
    {
        for (; _i < _lines.Count; _i++)
        {
            var lineNo = _i + 1;
            var text = _lines[_i];
            var indent = text.Length - text.TrimStart().Length;
            var trimmed = text.Trim();
            if (trimmed.Length == 0 || trimmed[0] == '#')
            {
                continue;
            }
            var words = trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var command = words[0];
            var column = indent + 1;
            switch (command)
            {
                case "var":
                    if (words.Length != 2 || !IsName(words[1]))
                    {
                        return new ScriptError(0x0006, lineNo, ArgColumn(text, 1));
                    }
                    _variables.Add(words[1]);
                    break;
                case "set_pgstat_mode":
                    if (words.Length != 2 || words[1] is not ("0" or "2" or "3" or "6"))
                    {
                        return new ScriptError(0x0006, lineNo, ArgColumn(text, 1));
                    }
                    if (words[1] == "6" && !_galvanostatic)
                    {
                        return new ScriptError(0x4205, lineNo, ArgColumn(text, 1));
                    }
                    break;
                case "set_range":
                    // ba: the measured current's range; db: the applied current's (galvanostatic); ab: the measured potential's.
                    if (words.Length != 3 || words[1] is not ("ba" or "db" or "ab") || ParseNumber(words[2]) is not { } range || range <= 0)
                    {
                        return new ScriptError(0x0006, lineNo, ArgColumn(text, words.Length >= 2 && words[1] is not ("ba" or "db" or "ab") ? 1 : 2));
                    }
                    if (words[1] != "ab")
                    {
                        target.Add(new SetRangeStatement(lineNo, range));
                    }
                    break;
                case "cell_on":
                case "cell_off":
                case "timer_start":
                    if (words.Length != 1)
                    {
                        return new ScriptError(0x0006, lineNo, ArgColumn(text, 1));
                    }
                    target.Add(command == "timer_start" ? new TimerStartStatement(lineNo) : new CellStatement(lineNo, command == "cell_on"));
                    break;
                case "timer_get":
                    if (TimerVariable(words, text, lineNo) is { } timerError)
                    {
                        return timerError;
                    }
                    target.Add(new TimerGetStatement(lineNo, words[1]));
                    break;
                case "if":
                {
                    var (condition, conditionError) = ParseCondition(words, text, lineNo);
                    if (conditionError is not null)
                    {
                        return conditionError;
                    }
                    var body = new List<ScriptStatement>();
                    _i++;
                    if (ParseBlock(body, lineNo, null) is { } bodyError)
                    {
                        return bodyError;
                    }
                    target.Add(new IfStatement(lineNo, condition!, body));
                    break;
                }
                case "endif" when ifLine is not null && words.Length == 1:
                    return null;
                case "on_finished:":
                    if (onFinished is null || ReferenceEquals(target, onFinished))
                    {
                        return new ScriptError(0x4001, lineNo, column);
                    }
                    target = onFinished;
                    break;
                case "meas_loop_cv":
                case "meas_loop_ca":
                case "meas_loop_cp":
                {
                    var kind = command switch { "meas_loop_cv" => LoopKind.Cv, "meas_loop_ca" => LoopKind.Ca, _ => LoopKind.Cp };
                    var (loop, error) = ParseLoop(words, kind);
                    if (error is not null)
                    {
                        return error;
                    }
                    target.Add(loop!);
                    break;
                }
                case "endloop":
                case "endif":
                case "breakloop":
                case "pck_start":
                case "pck_add":
                case "pck_end":
                    // Outside a measurement loop (or an if) these are misplaced.
                    return new ScriptError(0x4002, lineNo, column);
                default:
                    if (Ignored.Contains(command))
                    {
                        break;
                    }
                    return new ScriptError(KnownUnsupported.Contains(command) ? 0x4205 : 0x0003, lineNo, column);
            }
        }
        return ifLine is { } open ? new ScriptError(0x4004, open, 1) : null;
    }

    private (MeasLoopStatement? Loop, ScriptError? Error) ParseLoop(string[] words, LoopKind kind)
    {
        var lineNo = _i + 1;
        var text = _lines[_i];
        var args = words.Skip(1).ToList();
        var scans = 1;
        if (kind == LoopKind.Cv && args.Count == 8 && args[7].StartsWith("nscans(", StringComparison.Ordinal) && args[7].EndsWith(')'))
        {
            if (!int.TryParse(args[7].AsSpan(7, args[7].Length - 8), NumberStyles.None, CultureInfo.InvariantCulture, out scans) || scans < 1)
            {
                return (null, new ScriptError(0x0006, lineNo, ArgColumn(text, 8)));
            }
            args.RemoveAt(7);
        }
        var expected = kind == LoopKind.Cv ? 7 : 5;
        if (args.Count != expected)
        {
            return (null, new ScriptError(0x0006, lineNo, ArgColumn(text, Math.Min(args.Count, expected) + 1)));
        }
        for (var a = 0; a < 2; a++)
        {
            if (!_variables.Contains(args[a]))
            {
                return (null, new ScriptError(0x4003, lineNo, ArgColumn(text, a + 1)));
            }
        }
        var numbers = new double[expected - 2];
        for (var a = 2; a < expected; a++)
        {
            if (ParseNumber(args[a]) is not { } n)
            {
                return (null, new ScriptError(0x0006, lineNo, ArgColumn(text, a + 1)));
            }
            numbers[a - 2] = n;
        }
        // The device refuses what it cannot run: a zero step or rate, an interval longer than the duration, no current.
        var refused = kind switch
        {
            LoopKind.Cv => numbers[3] <= 0 || numbers[4] <= 0 || numbers[1] == numbers[0] ? 6 : 0,
            LoopKind.Cp when numbers[0] == 0 => 3,
            _ => numbers[1] <= 0 || numbers[2] < numbers[1] ? 4 : 0,
        };
        if (refused > 0)
        {
            return (null, new ScriptError(0x0007, lineNo, ArgColumn(text, refused)));
        }

        var package = new List<string>();
        var body = new List<LoopCommand>();
        var state = 0; // 0: before pck_start, 1: inside, 2: after pck_end
        for (_i++; _i < _lines.Count; _i++)
        {
            var inner = _lines[_i].Trim();
            var innerWords = inner.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var innerColumn = _lines[_i].Length - _lines[_i].TrimStart().Length + 1;
            if (inner.Length == 0 || inner[0] == '#')
            {
                continue;
            }
            switch (innerWords[0])
            {
                case "pck_start" when state == 0 && innerWords.Length == 1:
                    state = 1;
                    break;
                case "pck_add" when state == 1 && innerWords.Length == 2:
                    if (!_variables.Contains(innerWords[1]))
                    {
                        return (null, new ScriptError(0x4003, _i + 1, ArgColumn(_lines[_i], 1)));
                    }
                    package.Add(innerWords[1]);
                    break;
                case "pck_end" when state == 1 && innerWords.Length == 1:
                    state = 2;
                    body.Add(new SendPackage());
                    break;
                case "timer_get" when state != 1:
                    if (TimerVariable(innerWords, _lines[_i], _i + 1) is { } timerError)
                    {
                        return (null, timerError);
                    }
                    body.Add(new TimerGet(innerWords[1]));
                    break;
                case "if" when state != 1:
                {
                    var (condition, conditionError) = ParseCondition(innerWords, _lines[_i], _i + 1);
                    if (conditionError is not null)
                    {
                        return (null, conditionError);
                    }
                    // The only if a loop body may hold here is a cut-off: breakloop, then endif.
                    var ifLine = _i + 1;
                    if (NextStatement() is not ["breakloop"] || NextStatement() is not ["endif"])
                    {
                        return (null, _i < _lines.Count
                            ? new ScriptError(0x4205, _i + 1, _lines[_i].Length - _lines[_i].TrimStart().Length + 1)
                            : new ScriptError(0x4004, ifLine, 1));
                    }
                    body.Add(new BreakIf(condition!));
                    break;
                }
                case "endloop" when state != 1 && innerWords.Length == 1:
                    var cv = kind == LoopKind.Cv;
                    return (new MeasLoopStatement(lineNo, kind, args[0], args[1],
                        cv ? numbers[0] : 0, cv ? numbers[1] : 0, cv ? numbers[2] : 0, cv ? numbers[3] : 0, cv ? numbers[4] : 0, scans,
                        kind == LoopKind.Ca ? numbers[0] : 0, kind == LoopKind.Cp ? numbers[0] : 0, cv ? 0 : numbers[1], cv ? 0 : numbers[2],
                        package, body), null);
                default:
                    var misplaced = innerWords[0] is "pck_start" or "pck_add" or "pck_end" or "endloop" or "breakloop" or "endif";
                    return (null, new ScriptError(misplaced ? 0x4002 : KnownUnsupported.Contains(innerWords[0]) ? 0x4205 : 0x0003, _i + 1, innerColumn));
            }
        }
        return (null, new ScriptError(0x4004, lineNo, 1));
    }

    /// <summary>Moves to the next line that is not blank or a comment and returns its words (empty at the script end).</summary>
    private string[] NextStatement()
    {
        for (_i++; _i < _lines.Count; _i++)
        {
            var trimmed = _lines[_i].Trim();
            if (trimmed.Length > 0 && trimmed[0] != '#')
            {
                return trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            }
        }
        return [];
    }

    private (Condition? Condition, ScriptError? Error) ParseCondition(string[] words, string text, int lineNo)
    {
        if (words.Length != 4)
        {
            return (null, new ScriptError(0x0006, lineNo, ArgColumn(text, Math.Min(words.Length, 4))));
        }
        if (!_variables.Contains(words[1]))
        {
            return (null, new ScriptError(0x4003, lineNo, ArgColumn(text, 1)));
        }
        if (!Operators.Contains(words[2]))
        {
            return (null, new ScriptError(0x0006, lineNo, ArgColumn(text, 2)));
        }
        return ParseNumber(words[3]) is { } value
            ? (new Condition(words[1], words[2], value), null)
            : (null, new ScriptError(0x0006, lineNo, ArgColumn(text, 3)));
    }

    private ScriptError? TimerVariable(string[] words, string text, int lineNo) =>
        words.Length != 2 ? new ScriptError(0x0006, lineNo, ArgColumn(text, 1))
        : !_variables.Contains(words[1]) ? new ScriptError(0x4003, lineNo, ArgColumn(text, 1))
        : null;

    /// <summary>A MethodSCRIPT number: an integer (or decimal) with an optional SI prefix, e.g. 500m, -1, 10u.</summary>
    internal static double? ParseNumber(string text)
    {
        if (text.Length == 0)
        {
            return null;
        }
        var factor = text[^1] switch
        {
            'a' => 1e-18, 'f' => 1e-15, 'p' => 1e-12, 'n' => 1e-9, 'u' => 1e-6, 'm' => 1e-3,
            'k' => 1e3, 'M' => 1e6, 'G' => 1e9, 'T' => 1e12, 'P' => 1e15, 'E' => 1e18, 'i' => 1,
            _ => 0.0,
        };
        var digits = factor == 0 ? text : text[..^1];
        if (factor == 0)
        {
            factor = 1;
        }
        if (digits.Length == 0 || digits.Any(c => !(char.IsAsciiDigit(c) || c is '-' or '.'))
            || !double.TryParse(digits, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return null;
        }
        return value * factor;
    }

    private static bool IsName(string s) => s.Length is > 0 and <= 16 && char.IsAsciiLetter(s[0]) && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    /// <summary>The 1-based column where argument <paramref name="index"/> (1 = first after the command) starts.</summary>
    private static int ArgColumn(string text, int index)
    {
        var pos = 0;
        var word = -1;
        var inWord = false;
        for (; pos < text.Length; pos++)
        {
            if (text[pos] != ' ' && !inWord)
            {
                inWord = true;
                word++;
                if (word == index)
                {
                    return pos + 1;
                }
            }
            else if (text[pos] == ' ')
            {
                inWord = false;
            }
        }
        return text.Length + 1;
    }
}
