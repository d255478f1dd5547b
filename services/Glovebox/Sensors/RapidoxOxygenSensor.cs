using System.Globalization;
using Seccm.Devices;
using Seccm.Devices.Serial;

namespace Seccm.Glovebox.Sensors;

/// <summary>Polled ASCII O2 analyser (Rapidox style): <c>D\r</c> answers <c>d&lt;ppm&gt;,&lt;more fields&gt;</c>.</summary>
internal sealed class RapidoxOxygenSensor(string name, ISerialLine line, TimeSpan timeout, int retries, TimeProvider time) : IOxygenSensor
{
    private readonly SerialRetry _retry = new(line, retries, TimeSpan.FromMilliseconds(100), time);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string Name { get; } = name;

    public async ValueTask<double> ReadO2PpmAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await _retry.ExecuteAsync(ReadOnceAsync, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask<double> ReadOnceAsync(CancellationToken cancellationToken)
    {
        line.DiscardInput();
        await line.WriteLineAsync("D", "\r", cancellationToken).ConfigureAwait(false);
        var answer = await line.ReadLineAsync(timeout, cancellationToken).ConfigureAwait(false);
        return Parse(answer, line.Name);
    }

    internal static double Parse(string answer, string port)
    {
        var text = answer.Trim();
        if (text.Length < 2 || text[0] != 'd')
        {
            throw new DeviceProtocolException($"O2 analyser on '{port}' answered '{Printable(text)}' to 'D'; expected 'd<ppm>,...'.");
        }
        var first = text[1..].Split(',')[0];
        if (!double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var ppm) || !double.IsFinite(ppm) || ppm < 0)
        {
            throw new DeviceProtocolException($"O2 analyser on '{port}' sent '{Printable(first)}' where the O2 ppm should be (line '{Printable(text)}').");
        }
        return ppm;
    }

    internal static string Printable(string text) =>
        string.Concat(text.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\x{(int)c:X2}"));

    public ValueTask DisposeAsync()
    {
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }
}
