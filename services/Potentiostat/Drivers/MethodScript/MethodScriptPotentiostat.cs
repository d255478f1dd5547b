using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Seccm.Devices;
using Seccm.Devices.Serial;

namespace Seccm.Potentiostat.Drivers.MethodScript;

/// <summary>
/// Settings of the MethodSCRIPT driver: how long the device may stay silent (beyond one sampling interval) before it
/// is declared gone, samples per <see cref="SampleChunk"/>, and the device family configured (its limits hold until
/// the version reply names the device; a reply naming another family is refused).
/// </summary>
internal sealed record MethodScriptOptions(TimeSpan ResponseTimeout, int ChunkSize, MethodScriptFamily Family)
{
    /// <summary>An EmStat4 LR: the pA currents of a 55 nm pipette need its 1 nA range.</summary>
    public static MethodScriptOptions Default { get; } = new(TimeSpan.FromSeconds(3), 1024, MethodScriptFamily.EmStat4Lr);
}

/// <summary>
/// A PalmSens potentiostat (EmStat Pico / EmStat4) driven by MethodSCRIPT over a serial line: each technique is a
/// script, samples come back as data packages and are streamed as chunks while the script runs. The version reply
/// names the device family, whose limits and scripts apply from then on. Replies follow the grammar of PalmSens' own
/// parsers: <c>M</c> starts a measurement loop, <c>C</c> a scan of an <c>nscans()</c> CV, <c>-</c> ends a scan, <c>*</c>
/// a measurement loop, <c>L</c>/<c>+</c> a plain loop; a value may be <c>nan</c>, and status bits mark samples out of range.
/// </summary>
internal sealed class MethodScriptPotentiostat(ISerialLine line, MethodScriptOptions options) : IPotentiostat
{
    private readonly SemaphoreSlim _busy = new(1, 1);
    private readonly SemaphoreSlim _writing = new(1, 1);
    private volatile bool _scriptRunning;
    private MethodScriptFamily _family = options.Family;

    public static MethodScriptPotentiostat Open(string portName, SerialLineSettings settings, MethodScriptOptions options, TimeProvider time) =>
        new(StreamSerialLine.OpenPort(portName, settings, time), options);

    public string Name => line.Name;

    /// <summary>The device family: the configured one until the version reply names the device.</summary>
    public MethodScriptFamily Family => _family;

    public PotentiostatLimits Limits => _family.Limits;

    public async Task<string> GetVersionAsync(CancellationToken cancellationToken)
    {
        await _busy.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteAsync("t\n", cancellationToken).ConfigureAwait(false);
            var first = await ReadAsync(options.ResponseTimeout, "the firmware version", cancellationToken).ConfigureAwait(false);
            ThrowIfError(first);
            if (!first.StartsWith('t'))
            {
                throw new DeviceProtocolException($"Potentiostat on '{Name}' answered 't' with '{MethodScriptPackage.Shorten(first)}': a version reply starts with 't'.");
            }
            var version = new StringBuilder(first[1..]);
            // The version reply spans lines; its last line ends with '*'.
            var last = first;
            while (!last.EndsWith('*'))
            {
                last = await ReadAsync(options.ResponseTimeout, "the end of the firmware version", cancellationToken).ConfigureAwait(false);
                ThrowIfError(last);
                version.Append(' ').Append(last);
            }
            var text = version.ToString().TrimEnd('*').Trim();
            var family = MethodScriptFamily.FromVersion(text)
                ?? throw new DeviceProtocolException(
                    $"Potentiostat on '{Name}' answered the version request with '{MethodScriptPackage.Shorten(text)}', which names no device family this driver knows ({string.Join(", ", MethodScriptFamily.All.Select(f => $"{f.Name}: {string.Join('/', f.VersionPrefixes)}"))}).");
            if (family != options.Family)
            {
                throw new DeviceException(
                    $"Potentiostat on '{Name}' is an {family.Name} ('{MethodScriptPackage.Shorten(text)}'), but Potentiostat:Device is {options.Family.ConfigName}: set it to {family.ConfigName} so the scripts, ranges and limits are the device's.");
            }
            _family = family;
            return text;
        }
        finally
        {
            _busy.Release();
        }
    }

    public async Task SetCellAsync(bool on, CancellationToken cancellationToken)
    {
        await foreach (var _ in RunScriptAsync(MethodScriptScripts.Cell(on), ScriptShape.NoMeasurement("cell " + (on ? "on" : "off")), cancellationToken).ConfigureAwait(false))
        {
            throw new DeviceProtocolException($"Potentiostat on '{Name}' sent data packages for a script that measures nothing.");
        }
    }

    public IAsyncEnumerable<SampleChunk> RunCvAsync(CvRequest request, CancellationToken cancellationToken)
    {
        PotentiostatLimits.ThrowIfRefused(Limits.Check(request), "CV");
        return RunScriptAsync(MethodScriptScripts.Cv(request), ScriptShape.Cv(request), cancellationToken);
    }

    public IAsyncEnumerable<SampleChunk> RunHoldAsync(HoldRequest request, CancellationToken cancellationToken)
    {
        PotentiostatLimits.ThrowIfRefused(Limits.Check(request), "hold");
        return RunScriptAsync(MethodScriptScripts.Hold(request), ScriptShape.Hold(request), cancellationToken);
    }

    public IAsyncEnumerable<SampleChunk> RunChargeDischargeAsync(ChargeDischargeRequest request, CancellationToken cancellationToken)
    {
        PotentiostatLimits.ThrowIfRefused(Limits.Check(request), "charge/discharge");
        return RunScriptAsync(MethodScriptScripts.ChargeDischarge(request, _family), ScriptShape.ChargeDischarge(request), cancellationToken);
    }

    public async Task AbortAsync(CancellationToken cancellationToken)
    {
        if (_scriptRunning)
        {
            // The running technique's reader sees the 'Z' echo and the script end, and reports the abort.
            await WriteAsync("Z\n", cancellationToken).ConfigureAwait(false);
            return;
        }
        await _busy.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteAsync("Z\n", cancellationToken).ConfigureAwait(false);
            var reply = await ReadAsync(options.ResponseTimeout, "the abort acknowledgement", cancellationToken).ConfigureAwait(false);
            // "Z!0006" is the device saying no script was running: nothing to abort, which is what we wanted.
            if (reply == "Z")
            {
                await DrainToScriptEndAsync().ConfigureAwait(false);
            }
            else if (!reply.StartsWith("Z!", StringComparison.Ordinal))
            {
                throw new DeviceProtocolException($"Potentiostat on '{Name}' answered 'Z' (abort) with '{MethodScriptPackage.Shorten(reply)}'.");
            }
        }
        finally
        {
            _busy.Release();
        }
    }

    /// <summary>Sends one script and turns what comes back into chunks, as <paramref name="shape"/> says the script measures.</summary>
    private async IAsyncEnumerable<SampleChunk> RunScriptAsync(IReadOnlyList<string> script, ScriptShape shape,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var technique = shape.Technique;
        var loops = shape.Loops;
        var scanRate = shape.ScanRate;
        await _busy.WaitAsync(cancellationToken).ConfigureAwait(false);
        var finished = false;
        try
        {
            _scriptRunning = true;
            var text = new StringBuilder("e\n");
            foreach (var s in script)
            {
                text.Append(s).Append('\n');
            }
            text.Append('\n');
            await WriteAsync(text.ToString(), cancellationToken).ConfigureAwait(false);

            var echo = await ReadAsync(options.ResponseTimeout, $"the echo of the {technique} script", cancellationToken).ConfigureAwait(false);
            if (echo.Contains('!', StringComparison.Ordinal))
            {
                finished = await TryDrainAfterErrorAsync().ConfigureAwait(false);
                ThrowIfError(echo, technique, script);
            }
            if (echo != "e")
            {
                throw new DeviceProtocolException($"Potentiostat on '{Name}' answered the {technique} script with '{MethodScriptPackage.Shorten(echo)}' instead of 'e'.");
            }

            var rateIndex = -1;
            var cycle = 0;
            var scansInLoop = 0;
            long sampleIndex = 0;
            var intervalS = 0.0;
            var aborted = false;
            // The open scopes, innermost last: 'M' measurement loop, 'C' scan, 'L' plain loop (PalmSens' parsers keep the same stack).
            var scopes = new Stack<char>();
            var chunk = new ChunkBuilder(options.ChunkSize);
            while (true)
            {
                var timeout = options.ResponseTimeout + TimeSpan.FromSeconds(intervalS);
                var reply = await ReadAsync(timeout, $"{technique} data", cancellationToken).ConfigureAwait(false);
                if (reply.Length == 0)
                {
                    finished = true;
                    if (chunk.Count > 0)
                    {
                        yield return chunk.Take(rateIndex, scanRate(Math.Max(rateIndex, 0)), cycle);
                    }
                    if (aborted)
                    {
                        throw new PotentiostatAbortedException($"The {technique} on '{Name}' was aborted after {sampleIndex} sample(s) of measurement loop {rateIndex + 1}.");
                    }
                    if (scopes.Count > 0)
                    {
                        throw new DeviceProtocolException($"Potentiostat on '{Name}' ended the {technique} script with {Describe(scopes.Peek())} still open.");
                    }
                    if (loops >= 0 && (shape.MayEndEarly ? rateIndex + 1 < 1 : rateIndex + 1 != loops))
                    {
                        throw new DeviceProtocolException($"Potentiostat on '{Name}' ended the {technique} script after {rateIndex + 1} measurement loop(s); the script has {loops}.");
                    }
                    yield break;
                }
                switch (reply[0])
                {
                    case 'P':
                        if (rateIndex < 0 || !scopes.Contains('M'))
                        {
                            throw new DeviceProtocolException($"Potentiostat on '{Name}' sent a data package '{MethodScriptPackage.Shorten(reply)}' outside a measurement loop.");
                        }
                        var (potentialV, currentA, flags) = ReadSample(reply);
                        chunk.Add((sampleIndex + shape.FirstSampleIntervals) * intervalS, potentialV, currentA, sampleIndex, flags);
                        sampleIndex++;
                        // A hold's samples go out one by one: its caller watches them for contact within one interval.
                        if (chunk.Count >= options.ChunkSize || shape.StreamEachSample)
                        {
                            yield return chunk.Take(rateIndex, scanRate(rateIndex), cycle);
                        }
                        break;
                    case 'M' or 'C' or 'L':
                        if (!IsScopeStart(reply))
                        {
                            throw new DeviceProtocolException($"Potentiostat on '{Name}' sent '{MethodScriptPackage.Shorten(reply)}' during the {technique}: not a valid start of a loop ('M' or 'C' and 4 hex digits, or 'L').");
                        }
                        // A chunk never spans two loops or two scans.
                        if (chunk.Count > 0)
                        {
                            yield return chunk.Take(rateIndex, scanRate(Math.Max(rateIndex, 0)), cycle);
                        }
                        if (reply[0] == 'M')
                        {
                            rateIndex++;
                            if (rateIndex >= loops)
                            {
                                throw new DeviceProtocolException($"Potentiostat on '{Name}' started measurement loop {rateIndex + 1}; the {technique} script has {loops}.");
                            }
                            cycle = shape.FirstCycleOf(rateIndex);
                            scansInLoop = 0;
                            sampleIndex = 0;
                            intervalS = shape.IntervalS(rateIndex);
                        }
                        else if (reply[0] == 'C')
                        {
                            if (scopes.Count == 0 || scopes.Peek() != 'M')
                            {
                                throw new DeviceProtocolException($"Potentiostat on '{Name}' started a scan ('{reply}') outside a measurement loop during the {technique}.");
                            }
                            // Scan n of an nscans() CV is cycle n of its rate.
                            cycle = shape.FirstCycleOf(rateIndex) + scansInLoop++;
                        }
                        scopes.Push(reply[0]);
                        break;
                    case '-' or '*' or '+' when reply.Length == 1:
                        var opens = reply[0] switch { '-' => 'C', '*' => 'M', _ => 'L' };
                        if (scopes.Count == 0 || scopes.Peek() != opens)
                        {
                            throw new DeviceProtocolException(
                                $"Potentiostat on '{Name}' sent '{reply}' (the end of {Describe(opens)}) during the {technique} while {(scopes.Count == 0 ? "nothing" : Describe(scopes.Peek()))} was open.");
                        }
                        scopes.Pop();
                        if (chunk.Count > 0)
                        {
                            yield return chunk.Take(rateIndex, scanRate(Math.Max(rateIndex, 0)), cycle);
                        }
                        break;
                    case 'Z' when reply.Length == 1:
                        aborted = true;
                        break;
                    default:
                        if (reply.Contains('!', StringComparison.Ordinal))
                        {
                            finished = await TryDrainAfterErrorAsync().ConfigureAwait(false);
                            ThrowIfError(reply, technique, script);
                        }
                        throw new DeviceProtocolException($"Potentiostat on '{Name}' sent '{MethodScriptPackage.Shorten(reply)}' during the {technique}: not a MethodSCRIPT reply.");
                }
            }
        }
        finally
        {
            _scriptRunning = false;
            if (!finished)
            {
                // The consumer stopped early, or the device misbehaved: stop the script so the next one starts clean.
                await AbortAndDrainQuietlyAsync().ConfigureAwait(false);
            }
            _busy.Release();
        }
    }

    /// <summary>'M' or 'C' and 4 hex digits, or a lone 'L', as PalmSens' parser accepts a loop start.</summary>
    private static bool IsScopeStart(string reply) => reply[0] switch
    {
        'M' or 'C' => reply.Length == 5 && reply.Skip(1).All(char.IsAsciiHexDigit),
        _ => reply.Length == 1,
    };

    private static string Describe(char scope) => scope switch
    {
        'M' => "a measurement loop",
        'C' => "a scan",
        _ => "a loop",
    };

    private (double PotentialV, double CurrentA, SampleFlags Flags) ReadSample(string reply)
    {
        MethodScriptValue[] values;
        try
        {
            values = MethodScriptPackage.Parse(reply);
        }
        catch (FormatException ex)
        {
            throw new DeviceProtocolException($"Potentiostat on '{Name}': {ex.Message}");
        }
        double? potential = null, current = null;
        var flags = SampleFlags.None;
        foreach (var v in values)
        {
            switch (v.Type)
            {
                case "da":
                case "ab":
                    // A CV or hold reports the set potential (da); chronopotentiometry the measured one (ab).
                    potential = v.Value;
                    flags |= v.Flags;
                    break;
                case "ba":
                case "db":
                    // The measured current (ba); in galvanostatic mode the loop's current variable is the applied one (db).
                    current = v.Value;
                    flags |= v.Flags;
                    break;
            }
        }
        if (potential is null || current is null)
        {
            throw new DeviceProtocolException($"Potentiostat on '{Name}' sent package '{MethodScriptPackage.Shorten(reply)}' without a potential (da or ab) and a current (ba or db).");
        }
        return (potential.Value, current.Value, flags);
    }

    /// <summary>Throws <see cref="MethodScriptException"/> when <paramref name="reply"/> holds '!' and a code.</summary>
    /// <param name="reply">A line from the device.</param>
    /// <param name="technique">The technique whose script was sent, to say what ran.</param>
    /// <param name="script">That script's lines, to quote the line the device blames.</param>
    private void ThrowIfError(string reply, string? technique = null, IReadOnlyList<string>? script = null)
    {
        var bang = reply.IndexOf('!', StringComparison.Ordinal);
        if (bang < 0)
        {
            return;
        }
        if (bang + 5 > reply.Length
            || !int.TryParse(reply.AsSpan(bang + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
        {
            throw new DeviceProtocolException($"Potentiostat on '{Name}' sent an error reply without a 4-digit code: '{MethodScriptPackage.Shorten(reply)}'.");
        }
        int? scriptLine = null, column = null;
        // The device appends where a script error is, e.g. "!4004: Line 3, Col 12".
        var rest = reply[(bang + 5)..];
        var lineAt = rest.IndexOf("Line ", StringComparison.OrdinalIgnoreCase);
        if (lineAt >= 0)
        {
            scriptLine = LeadingInt(rest.AsSpan(lineAt + 5));
        }
        var colAt = rest.IndexOf("Col ", StringComparison.OrdinalIgnoreCase);
        if (colAt >= 0)
        {
            column = LeadingInt(rest.AsSpan(colAt + 4));
        }
        var lineText = scriptLine is { } n && script is not null && n >= 1 && n <= script.Count ? script[n - 1] : null;
        throw new MethodScriptException(Name, code, scriptLine, column, reply, technique is null ? null : $"the {technique} script", lineText);
    }

    private static int? LeadingInt(ReadOnlySpan<char> text)
    {
        var n = 0;
        while (n < text.Length && char.IsAsciiDigit(text[n]))
        {
            n++;
        }
        return n > 0 && int.TryParse(text[..n], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    private async ValueTask<string> ReadAsync(TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await line.ReadLineAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (DeviceTimeoutException)
        {
            throw new DeviceTimeoutException($"Potentiostat on '{Name}' sent nothing for {timeout.TotalSeconds:0.###} s while {what} was expected: is it connected and powered?");
        }
    }

    private async ValueTask WriteAsync(string text, CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await line.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>After an error reply the device still ends the script with a blank line; eat it to stay in step.</summary>
    private async ValueTask<bool> TryDrainAfterErrorAsync()
    {
        try
        {
            await DrainToScriptEndAsync().ConfigureAwait(false);
            return true;
        }
        catch (DeviceException)
        {
            return false;
        }
    }

    private async ValueTask DrainToScriptEndAsync()
    {
        while ((await ReadAsync(options.ResponseTimeout, "the end of the script", CancellationToken.None).ConfigureAwait(false)).Length != 0)
        {
        }
    }

    private async ValueTask AbortAndDrainQuietlyAsync()
    {
        try
        {
            await WriteAsync("Z\n", CancellationToken.None).ConfigureAwait(false);
            await DrainToScriptEndAsync().ConfigureAwait(false);
        }
        catch (DeviceException)
        {
            // A device that is gone or garbled cannot be drained; the next command will report it.
        }
        line.DiscardInput();
    }

    public async ValueTask DisposeAsync()
    {
        await line.DisposeAsync().ConfigureAwait(false);
        _busy.Dispose();
        _writing.Dispose();
    }

    private sealed class ChunkBuilder(int capacity)
    {
        private readonly List<double> _time = new(capacity);
        private readonly List<double> _potential = new(capacity);
        private readonly List<double> _current = new(capacity);
        private long _first;
        private SampleFlags _flags;

        public int Count => _time.Count;

        public void Add(double timeS, double potentialV, double currentA, long sampleIndex, SampleFlags flags)
        {
            if (_time.Count == 0)
            {
                _first = sampleIndex;
            }
            _time.Add(timeS);
            _potential.Add(potentialV);
            _current.Add(currentA);
            _flags |= flags;
        }

        public SampleChunk Take(int rateIndex, double scanRateVPerS, int cycle)
        {
            var chunk = new SampleChunk(Math.Max(rateIndex, 0), scanRateVPerS, cycle, _first, [.. _time], [.. _potential], [.. _current],
                Flags: _flags);
            _time.Clear();
            _potential.Clear();
            _current.Clear();
            _flags = SampleFlags.None;
            return chunk;
        }
    }

    /// <summary>
    /// What a script measures: how many measurement loops (exactly, or at most when the device may stop early), each
    /// loop's scan rate, sampling interval and first cycle, whether samples stream one by one, and whether the first
    /// sample of a loop comes after one interval (a current applied from t = 0, as in chronopotentiometry) or at 0.
    /// </summary>
    private sealed record ScriptShape(
        string Technique, int Loops, bool MayEndEarly, Func<int, double> ScanRate, Func<int, double> IntervalS, Func<int, int> FirstCycleOf,
        bool StreamEachSample, int FirstSampleIntervals)
    {
        public static ScriptShape NoMeasurement(string technique) => new(technique, -1, false, _ => 0, _ => 0, _ => 0, false, 0);

        public static ScriptShape Cv(CvRequest request) => new("CV", request.ScanRatesVPerS.Count, false,
            r => request.ScanRatesVPerS[r], r => request.IntervalS(request.ScanRatesVPerS[r]), _ => 0, false, 0);

        public static ScriptShape Hold(HoldRequest request) => new("hold", 1, false, _ => 0, _ => request.IntervalS, _ => 0, true, 0);

        /// <summary>One loop per half-cycle, cycle = half-cycle / 2, as the simulated potentiostat numbers them.</summary>
        public static ScriptShape ChargeDischarge(ChargeDischargeRequest request) => new("charge/discharge", 2 * request.Cycles, true,
            _ => 0, _ => request.IntervalS, h => h / 2, false, 1);
    }
}
