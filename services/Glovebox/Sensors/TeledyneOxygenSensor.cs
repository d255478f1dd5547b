using System.Globalization;
using Seccm.Devices;
using Seccm.Devices.Serial;

namespace Seccm.Glovebox.Sensors;

/// <summary>
/// Streaming ASCII O2 analyser (Teledyne style) that sends <c>ST, 0.85 PPM, ...</c> lines on its own. A background
/// reader keeps the latest good value; a read fails when no good line arrived for <c>staleAfter</c>.
/// </summary>
internal sealed class TeledyneOxygenSensor : IOxygenSensor
{
    private readonly ISerialLine _line;
    private readonly TimeSpan _staleAfter;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private readonly Lock _lock = new();
    private double _lastPpm;
    private long _lastGood;
    private bool _hasValue;
    private string? _lastProblem;

    public TeledyneOxygenSensor(string name, ISerialLine line, TimeSpan staleAfter, TimeProvider time)
    {
        Name = name;
        _line = line;
        _staleAfter = staleAfter;
        _time = time;
        _lastGood = time.GetTimestamp();
        _reader = Task.Run(() => ReadLoopAsync(_stop.Token));
    }

    public string Name { get; }

    public ValueTask<double> ReadO2PpmAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var age = _time.GetElapsedTime(_lastGood);
            if (_hasValue && age <= _staleAfter)
            {
                return ValueTask.FromResult(_lastPpm);
            }
            var problem = _lastProblem is null ? "" : $" Last problem: {_lastProblem}";
            throw new DeviceTimeoutException(
                $"O2 analyser on '{_line.Name}' sent no valid 'ST, <ppm> PPM' line for {age.TotalSeconds:0.#} s.{problem}");
        }
    }

    internal static double Parse(string line, string port)
    {
        var fields = line.Split(',', StringSplitOptions.TrimEntries);
        if (fields.Length < 2 || fields[0] != "ST")
        {
            throw new DeviceProtocolException($"O2 analyser on '{port}' sent '{RapidoxOxygenSensor.Printable(line)}'; expected 'ST, <ppm> PPM, ...'.");
        }
        var value = fields[1];
        var unit = value.EndsWith("PPM", StringComparison.OrdinalIgnoreCase) ? value[..^3].Trim() : null;
        if (unit is null || !double.TryParse(unit, NumberStyles.Float, CultureInfo.InvariantCulture, out var ppm) || !double.IsFinite(ppm) || ppm < 0)
        {
            throw new DeviceProtocolException($"O2 analyser on '{port}' sent '{RapidoxOxygenSensor.Printable(value)}' where '<number> PPM' should be.");
        }
        return ppm;
    }

    private async Task ReadLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var line = await _line.ReadLineAsync(_staleAfter, cancellationToken).ConfigureAwait(false);
                var ppm = Parse(line, _line.Name);
                lock (_lock)
                {
                    _lastPpm = ppm;
                    _lastGood = _time.GetTimestamp();
                    _hasValue = true;
                    _lastProblem = null;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (DeviceException ex)
            {
                lock (_lock)
                {
                    _lastProblem = ex.Message;
                }
                if (ex is not DeviceTimeoutException and not DeviceProtocolException)
                {
                    // The port itself failed (closed, unplugged): do not spin; the stale check reports it.
                    await Task.Delay(_staleAfter, _time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _reader.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
