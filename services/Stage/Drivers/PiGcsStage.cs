using System.Globalization;
using Seccm.Devices;
using Seccm.Devices.Emulators.PiGcs;
using Seccm.Devices.Serial;

namespace Seccm.Stage.Drivers;

/// <summary>Settings of the PI GCS driver.</summary>
public sealed record PiGcsStageOptions
{
    /// <summary>PI controllers' RS-232 factory setting (E-727, C-867): 115200 baud, 8 data bits, no parity, 1 stop bit.</summary>
    public static SerialLineSettings DefaultLine { get; } = new(115200);

    public string Port { get; init; } = "/dev/ttyUSB0";

    /// <summary>The line: PI's RS-232 default is 115200 8N1.</summary>
    public SerialLineSettings Line { get; init; } = DefaultLine;

    public string AxisX { get; init; } = "1";
    public string AxisY { get; init; } = "2";
    public string AxisZ { get; init; } = "3";

    /// <summary>How long to wait for each answer line before the query counts as timed out.</summary>
    public TimeSpan AnswerTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Retries of a query after a timeout or a garbled answer. Commands that move are never repeated blindly.</summary>
    public int QueryRetries { get; init; } = 2;

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(50);
}

/// <summary>
/// A PI piezo controller (E-727, C-867, ...) speaking GCS over a serial line. Every command that can fail is followed by
/// <c>ERR?</c>, and a non-zero code becomes a <see cref="GcsException"/>. Queries, and commands that may safely arrive twice,
/// that time out or come back garbled are retried (Polly) after the input is flushed; when retries run out the caller gets a
/// <see cref="DeviceTimeoutException"/> or <see cref="DeviceProtocolException"/> naming the port and the command.
/// </summary>
public sealed class PiGcsStage : IStage
{
    private readonly ISerialLine _line;
    private readonly PiGcsStageOptions _options;
    private readonly SemaphoreSlim _transaction = new(1, 1);
    private readonly SerialRetry _retry;
    private readonly string[] _axisIds;
    private StageLimits? _limits;
    private string[]? _controllerAxes;

    public PiGcsStage(ISerialLine line, PiGcsStageOptions options, TimeProvider time)
    {
        _line = line;
        _options = options;
        _axisIds = [options.AxisX, options.AxisY, options.AxisZ];
        _retry = new SerialRetry(line, options.QueryRetries, options.RetryDelay, time);
    }

    /// <summary>Opens the serial port named in the options.</summary>
    public static PiGcsStage Open(PiGcsStageOptions options, TimeProvider time) =>
        new(StreamSerialLine.OpenPort(options.Port, options.Line), options, time);

    public string Name => $"pi-gcs:{_line.Name}";

    public Task SetServoAsync(bool on, CancellationToken cancellationToken) =>
        CommandAsync("SVO " + string.Join(' ', _axisIds.Select(id => id + (on ? " 1" : " 0"))), cancellationToken);

    public async Task MoveAbsoluteAsync(StageTarget target, CancellationToken cancellationToken)
    {
        var limits = await GetLimitsAsync(cancellationToken).ConfigureAwait(false);
        if (limits.Check(target) is { } problem)
        {
            throw new StageCommandException($"Move refused before sending it to '{_line.Name}': {problem}");
        }
        if (Pairs(target) is { Length: > 0 } pairs)
        {
            await CommandAsync("MOV " + pairs, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Relative moves are checked against the limits by the controller (error 7), which knows the current targets.</summary>
    public async Task MoveRelativeAsync(StageTarget deltaUm, CancellationToken cancellationToken)
    {
        if (Pairs(deltaUm) is { Length: > 0 } pairs)
        {
            await CommandAsync("MVR " + pairs, cancellationToken, repeatable: false).ConfigureAwait(false);
        }
    }

    public async Task<StagePosition> GetPositionAsync(CancellationToken cancellationToken)
    {
        var values = await QueryAxesAsync("POS?", _axisIds, cancellationToken).ConfigureAwait(false);
        return new StagePosition(ParseNumber(values[0]), ParseNumber(values[1]), ParseNumber(values[2]));
    }

    public async Task<bool> IsOnTargetAsync(CancellationToken cancellationToken)
    {
        var values = await QueryAxesAsync("ONT?", _axisIds, cancellationToken).ConfigureAwait(false);
        return values.All(v => v.Value == "1");
    }

    public Task SetVelocityAsync(StageAxis axis, double velocityUmPerS, CancellationToken cancellationToken) =>
        CommandAsync($"VEL {AxisId(axis)} {Format(velocityUmPerS)}", cancellationToken);

    public async Task<double> GetVelocityAsync(StageAxis axis, CancellationToken cancellationToken)
    {
        var values = await QueryAxesAsync("VEL?", [AxisId(axis)], cancellationToken).ConfigureAwait(false);
        return ParseNumber(values[0]);
    }

    /// <summary>
    /// Sends the single byte #24 (stop all) and clears the "controller stopped" error it leaves behind. Repeated when
    /// its ERR? is lost: stopping twice stops once.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken) =>
        CommandAsync("#24 (stop all)", ct => _line.WriteAsync(new byte[] { 0x18 }, ct), GcsErrors.ControllerStopped, repeatable: true,
            cancellationToken);

    public async Task<StageLimits> GetLimitsAsync(CancellationToken cancellationToken)
    {
        if (_limits is { } known)
        {
            return known;
        }
        var min = await QueryAxesAsync("TMN?", _axisIds, cancellationToken).ConfigureAwait(false);
        var max = await QueryAxesAsync("TMX?", _axisIds, cancellationToken).ConfigureAwait(false);
        AxisRange Range(int i) => new(ParseNumber(min[i]), ParseNumber(max[i]));
        return _limits = new StageLimits(Range(0), Range(1), Range(2));
    }

    /// <summary>
    /// #5: the axes that are moving now. Bit i of the mask is the i-th axis of the controller's own order, as <c>SAI? ALL</c>
    /// lists it (PIPython's <c>IsMoving</c> reads it the same way), which need not be our X, Y, Z order.
    /// </summary>
    public async Task<IReadOnlySet<StageAxis>> GetMovingAxesAsync(CancellationToken cancellationToken)
    {
        var order = await GetControllerAxesArrayAsync(cancellationToken).ConfigureAwait(false);
        var line = await SingleByteQueryAsync(0x05, "#5", async ct => await _line.ReadLineAsync(_options.AnswerTimeout, ct).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        if (!int.TryParse(line.Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var mask))
        {
            throw Garbled("#5", line, "a hexadecimal motion mask");
        }
        return Enum.GetValues<StageAxis>()
            .Where(a => Array.IndexOf(order, AxisId(a)) is var bit and >= 0 && bit < 31 && (mask & (1 << bit)) != 0)
            .ToHashSet();
    }

    /// <summary>
    /// The controller's axes in its own order (<c>SAI? ALL</c>, one per line), asked once. An axis we drive that the
    /// controller does not list is a configuration error, said here rather than as a wrong motion bit later.
    /// </summary>
    public async Task<IReadOnlyList<string>> GetControllerAxesAsync(CancellationToken cancellationToken) =>
        await GetControllerAxesArrayAsync(cancellationToken).ConfigureAwait(false);

    private async Task<string[]> GetControllerAxesArrayAsync(CancellationToken cancellationToken)
    {
        if (_controllerAxes is { } known)
        {
            return known;
        }
        var axes = (await QueryLinesAsync("SAI? ALL", cancellationToken).ConfigureAwait(false)).Select(a => a.Trim()).ToArray();
        if (axes.Length == 0 || axes.Any(a => a.Length == 0))
        {
            throw Garbled("SAI? ALL", string.Join(" | ", axes), "axis names, one per line");
        }
        var missing = _axisIds.Where(id => !axes.Contains(id, StringComparer.Ordinal)).ToList();
        if (missing.Count > 0)
        {
            throw new StageCommandException(
                $"PI controller on '{_line.Name}' has axes {string.Join(", ", axes)} (SAI? ALL); the configured axis id(s) {string.Join(", ", missing)} are not among them.");
        }
        return _controllerAxes = axes;
    }

    /// <summary>#7: true when the controller answers 0xB1 (ready), false for 0xB0 (busy).</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        var bytes = await SingleByteQueryAsync(0x07, "#7", async ct => await _line.ReadBytesAsync(2, _options.AnswerTimeout, ct).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        return bytes switch
        {
            [0xB1, (byte)'\n'] => true,
            [0xB0, (byte)'\n'] => false,
            _ => throw Garbled("#7", Convert.ToHexString(bytes), "0xB1 or 0xB0 followed by LF"),
        };
    }

    /// <summary>The controller's identification (<c>*IDN?</c>).</summary>
    public async Task<string> IdentifyAsync(CancellationToken cancellationToken) =>
        string.Join(' ', await QueryLinesAsync("*IDN?", cancellationToken).ConfigureAwait(false));

    public async ValueTask DisposeAsync()
    {
        await _line.DisposeAsync().ConfigureAwait(false);
        _transaction.Dispose();
    }

    /// <summary>
    /// Sends a command and reads ERR?. A command whose ERR? answer timed out or came back garbled is sent again with its
    /// own ERR? (Polly) when <paramref name="repeatable"/>: absolute moves, servo, velocity and stop land in the same
    /// state however often they arrive, and a refused one is refused again, so the second ERR? tells the truth. A
    /// relative move is not repeatable: sent twice it would go twice as far.
    /// </summary>
    private async Task CommandAsync(string command, CancellationToken cancellationToken, bool repeatable = true) =>
        await CommandAsync(command, ct => _line.WriteLineAsync(command, "\n", ct), GcsErrors.None, repeatable, cancellationToken).ConfigureAwait(false);

    private async Task CommandAsync(string label, Func<CancellationToken, ValueTask> send, int alsoAccepted, bool repeatable, CancellationToken cancellationToken)
    {
        await _transaction.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A retry drops whatever is left of the previous answer: a late ERR? answer would be read as this one's.
            ValueTask Attempt(CancellationToken ct) => SendCheckedAsync(label, send, alsoAccepted, ct);
            if (repeatable)
            {
                await _retry.ExecuteAsync(Attempt, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Attempt(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _transaction.Release();
        }
    }

    private async ValueTask SendCheckedAsync(string label, Func<CancellationToken, ValueTask> send, int alsoAccepted, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        await send(ct).ConfigureAwait(false);
        var code = await ReadErrorAsync(label, ct).ConfigureAwait(false);
        if (code != GcsErrors.None && code != alsoAccepted)
        {
            throw new GcsException(_line.Name, label, code);
        }
    }

    /// <summary>
    /// ERR? alone is not retried: it clears the register, so a repeated ERR? after a lost answer would read 0 and hide a
    /// refused move. CommandAsync repeats the command together with its ERR? instead.
    /// </summary>
    private async Task<int> ReadErrorAsync(string after, CancellationToken cancellationToken)
    {
        await _line.WriteLineAsync("ERR?", "\n", cancellationToken).ConfigureAwait(false);
        string line;
        try
        {
            line = await _line.ReadLineAsync(_options.AnswerTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (DeviceTimeoutException ex)
        {
            throw new DeviceTimeoutException($"PI controller on '{_line.Name}' did not answer ERR? after '{after}': {ex.Message}");
        }
        if (!int.TryParse(line.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var code))
        {
            throw Garbled($"ERR? (after '{after}')", line, "an error code");
        }
        return code;
    }

    private Task<string[]> QueryLinesAsync(string query, CancellationToken cancellationToken) =>
        QueryLinesAsync(query, lines => lines, cancellationToken);

    /// <summary>One query with retries; <paramref name="parse"/> runs inside the retry so a garbled answer is asked again.</summary>
    private async Task<T> QueryLinesAsync<T>(string query, Func<string[], T> parse, CancellationToken cancellationToken)
    {
        await _transaction.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var attempt = 0;
            return await _retry.ExecuteAsync(async ct =>
            {
                attempt++;
                await _line.WriteLineAsync(query, "\n", ct).ConfigureAwait(false);
                var lines = new List<string>();
                while (true)
                {
                    string line;
                    try
                    {
                        line = await _line.ReadLineAsync(_options.AnswerTimeout, ct).ConfigureAwait(false);
                    }
                    catch (DeviceTimeoutException ex)
                    {
                        throw new DeviceTimeoutException(
                            $"PI controller on '{_line.Name}' did not answer '{query}' (attempt {attempt} of {_options.QueryRetries + 1}): {ex.Message}");
                    }
                    // Multi-line answers: every line but the last ends with a space.
                    if (line.EndsWith(' '))
                    {
                        lines.Add(line[..^1]);
                        continue;
                    }
                    lines.Add(line);
                    return parse(lines.ToArray());
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _transaction.Release();
        }
    }

    private async Task<(string Axis, string Value)[]> QueryAxesAsync(string query, string[] axes, CancellationToken cancellationToken)
    {
        var command = query + " " + string.Join(' ', axes);
        return await QueryLinesAsync(command, lines => ParseAxes(command, query, axes, lines), cancellationToken).ConfigureAwait(false);
    }

    private (string Axis, string Value)[] ParseAxes(string command, string query, string[] axes, string[] lines)
    {
        if (lines.Length != axes.Length)
        {
            throw new DeviceProtocolException(
                $"PI controller on '{_line.Name}' answered '{command}' with {lines.Length} line(s) ('{string.Join(" | ", lines)}'), expected {axes.Length}.");
        }
        var result = new (string, string)[axes.Length];
        for (var i = 0; i < axes.Length; i++)
        {
            // PIPython splits at '=' and strips both sides: "1 = 10.4998" is as valid an answer as "1=10.4998".
            var eq = lines[i].IndexOf('=', StringComparison.Ordinal);
            if (eq < 0 || lines[i][..eq].Trim() != axes[i])
            {
                throw Garbled(command, lines[i], $"'{axes[i]}=<value>'");
            }
            var value = lines[i][(eq + 1)..].Trim();
            if (query != "ONT?" && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                throw Garbled(command, lines[i], $"'{axes[i]}=<number>'");
            }
            if (query == "ONT?" && value is not ("0" or "1"))
            {
                throw Garbled(command, lines[i], $"'{axes[i]}=0' or '{axes[i]}=1'");
            }
            result[i] = (axes[i], value);
        }
        return result;
    }

    private async Task<T> SingleByteQueryAsync<T>(byte command, string label, Func<CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        await _transaction.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await _retry.ExecuteAsync(async ct =>
            {
                await _line.WriteAsync(new[] { command }, ct).ConfigureAwait(false);
                try
                {
                    return await read(ct).ConfigureAwait(false);
                }
                catch (DeviceTimeoutException ex)
                {
                    throw new DeviceTimeoutException($"PI controller on '{_line.Name}' did not answer {label}: {ex.Message}");
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _transaction.Release();
        }
    }

    private DeviceProtocolException Garbled(string command, string line, string expected) =>
        new($"PI controller on '{_line.Name}' answered '{command}' with '{line}', expected {expected}.");

    // Values are validated in QueryAxesAsync, so parsing cannot fail here.
    private static double ParseNumber((string Axis, string Value) answer) =>
        double.Parse(answer.Value, NumberStyles.Float, CultureInfo.InvariantCulture);

    private string AxisId(StageAxis axis) => _axisIds[(int)axis];

    private string Pairs(StageTarget target) =>
        string.Join(' ', Enum.GetValues<StageAxis>().Where(a => target[a] is not null).Select(a => $"{AxisId(a)} {Format(target[a]!.Value)}"));

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
