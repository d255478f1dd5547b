using System.Globalization;

namespace Seccm.Devices.Emulators.MethodScript;

/// <summary>A statement of a MethodSCRIPT the emulator understands.</summary>
internal abstract record ScriptStatement(int Line);

internal sealed record CellStatement(int Line, bool On) : ScriptStatement(Line);

internal sealed record SetRangeStatement(int Line, double RangeA) : ScriptStatement(Line);

/// <summary>A measurement loop; <paramref name="PackageVariables"/> are the <c>pck_add</c> variables in order.</summary>
internal sealed record MeasLoopStatement(
    int Line, string PotentialVariable, string CurrentVariable, bool IsCv,
    double BeginV, double Vertex1V, double Vertex2V, double StepV, double ScanRateVPerS, int Scans,
    double HoldV, double IntervalS, double DurationS,
    IReadOnlyList<string> PackageVariables) : ScriptStatement(Line);

/// <summary>The script could not be accepted: the MethodSCRIPT error code and where.</summary>
internal sealed record ScriptError(int Code, int Line, int Column);

/// <summary>Parses the lines between <c>e</c> and the blank line into statements, as strictly as the device.</summary>
internal sealed class EmulatedScript
{
    /// <summary>Commands of the real language that this emulator does not run: the device answers them 4205.</summary>
    private static readonly HashSet<string> KnownUnsupported =
    [
        "meas_loop_lsv", "meas_loop_dpv", "meas_loop_swv", "meas_loop_npv", "meas_loop_eis", "meas_loop_ocp",
        "meas_loop_pad", "meas_loop_acv", "meas_loop_cp", "loop", "if", "else", "endif", "breakloop", "send_string",
        "store_var", "add_var", "file_open", "set_gpio", "set_gpio_cfg",
    ];

    private static readonly HashSet<string> Ignored =
        ["set_pgstat_chan", "set_max_bandwidth", "set_e", "set_autoranging", "set_acquisition_frac_autoadjust", "wait", "set_poly_we_mode"];

    public required IReadOnlyList<ScriptStatement> Main { get; init; }

    public required IReadOnlyList<ScriptStatement> OnFinished { get; init; }

    public static (EmulatedScript? Script, ScriptError? Error) Parse(IReadOnlyList<string> lines)
    {
        var variables = new HashSet<string>(StringComparer.Ordinal);
        var main = new List<ScriptStatement>();
        var onFinished = new List<ScriptStatement>();
        var target = main;
        for (var i = 0; i < lines.Count; i++)
        {
            var lineNo = i + 1;
            var text = lines[i];
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
                        return Fail(0x0006, lineNo, ArgColumn(text, 1));
                    }
                    variables.Add(words[1]);
                    break;
                case "set_pgstat_mode":
                    if (words.Length != 2 || words[1] is not ("0" or "2" or "3"))
                    {
                        return Fail(0x0006, lineNo, ArgColumn(text, 1));
                    }
                    break;
                case "set_range":
                    if (words.Length != 3 || words[1] != "ba" || ParseNumber(words[2]) is not { } range || range <= 0)
                    {
                        return Fail(0x0006, lineNo, ArgColumn(text, words.Length >= 2 && words[1] != "ba" ? 1 : 2));
                    }
                    target.Add(new SetRangeStatement(lineNo, range));
                    break;
                case "cell_on":
                case "cell_off":
                    if (words.Length != 1)
                    {
                        return Fail(0x0006, lineNo, ArgColumn(text, 1));
                    }
                    target.Add(new CellStatement(lineNo, command == "cell_on"));
                    break;
                case "on_finished:":
                    if (ReferenceEquals(target, onFinished))
                    {
                        return Fail(0x4001, lineNo, column);
                    }
                    target = onFinished;
                    break;
                case "meas_loop_cv":
                case "meas_loop_ca":
                {
                    var (loop, error) = ParseLoop(lines, ref i, words, variables, command == "meas_loop_cv");
                    if (error is not null)
                    {
                        return (null, error);
                    }
                    target.Add(loop!);
                    break;
                }
                case "endloop":
                case "pck_start":
                case "pck_add":
                case "pck_end":
                    // Outside a measurement loop these are misplaced.
                    return Fail(0x4002, lineNo, column);
                default:
                    if (Ignored.Contains(command))
                    {
                        break;
                    }
                    return Fail(KnownUnsupported.Contains(command) ? 0x4205 : 0x0003, lineNo, column);
            }
        }
        return (new EmulatedScript { Main = main, OnFinished = onFinished }, null);
    }

    private static (MeasLoopStatement? Loop, ScriptError? Error) ParseLoop(
        IReadOnlyList<string> lines, ref int i, string[] words, HashSet<string> variables, bool isCv)
    {
        var lineNo = i + 1;
        var text = lines[i];
        var args = words.Skip(1).ToList();
        var scans = 1;
        if (isCv && args.Count == 8 && args[7].StartsWith("nscans(", StringComparison.Ordinal) && args[7].EndsWith(')'))
        {
            if (!int.TryParse(args[7].AsSpan(7, args[7].Length - 8), NumberStyles.None, CultureInfo.InvariantCulture, out scans) || scans < 1)
            {
                return (null, new ScriptError(0x0006, lineNo, ArgColumn(text, 8)));
            }
            args.RemoveAt(7);
        }
        var expected = isCv ? 7 : 5;
        if (args.Count != expected)
        {
            return (null, new ScriptError(0x0006, lineNo, ArgColumn(text, Math.Min(args.Count, expected) + 1)));
        }
        for (var a = 0; a < 2; a++)
        {
            if (!variables.Contains(args[a]))
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
        // The device refuses what it cannot run: a zero step or rate, an interval longer than the duration.
        if (isCv ? numbers[3] <= 0 || numbers[4] <= 0 || numbers[1] == numbers[0] : numbers[1] <= 0 || numbers[2] < numbers[1])
        {
            return (null, new ScriptError(0x0007, lineNo, ArgColumn(text, isCv ? 6 : 4)));
        }

        var package = new List<string>();
        var state = 0; // 0: before pck_start, 1: inside, 2: after pck_end
        for (i++; i < lines.Count; i++)
        {
            var inner = lines[i].Trim();
            var innerWords = inner.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var innerColumn = lines[i].Length - lines[i].TrimStart().Length + 1;
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
                    if (!variables.Contains(innerWords[1]))
                    {
                        return (null, new ScriptError(0x4003, i + 1, ArgColumn(lines[i], 1)));
                    }
                    package.Add(innerWords[1]);
                    break;
                case "pck_end" when state == 1 && innerWords.Length == 1:
                    state = 2;
                    break;
                case "endloop" when state != 1 && innerWords.Length == 1:
                    return (new MeasLoopStatement(lineNo, args[0], args[1], isCv,
                        isCv ? numbers[0] : 0, isCv ? numbers[1] : 0, isCv ? numbers[2] : 0, isCv ? numbers[3] : 0, isCv ? numbers[4] : 0, scans,
                        isCv ? 0 : numbers[0], isCv ? 0 : numbers[1], isCv ? 0 : numbers[2], package), null);
                default:
                    return (null, new ScriptError(innerWords[0] is "pck_start" or "pck_add" or "pck_end" or "endloop" ? 0x4002 : 0x0003, i + 1, innerColumn));
            }
        }
        return (null, new ScriptError(0x4004, lineNo, 1));
    }

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

    private static (EmulatedScript?, ScriptError?) Fail(int code, int line, int column) => (null, new ScriptError(code, line, column));
}
