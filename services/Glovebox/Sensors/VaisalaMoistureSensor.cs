using System.Globalization;
using System.Text.RegularExpressions;
using Seccm.Devices;
using Seccm.Devices.Serial;
using Seccm.Electrochemistry.Atmosphere;

namespace Seccm.Glovebox.Sensors;

/// <summary>
/// ASCII dew-point transmitter (Vaisala style): <c>SEND\r</c> answers <c>Tdf= -75.00 'C ... H2O= 1.17 ppm</c>.
/// When the transmitter is not set to output H2O, ppmv is computed from the frost point at <c>pressureHPa</c>.
/// </summary>
internal sealed partial class VaisalaMoistureSensor(
    string name, ISerialLine line, TimeSpan timeout, int retries, double pressureHPa, TimeProvider time) : IMoistureSensor
{
    private readonly SerialRetry _retry = new(line, retries, TimeSpan.FromMilliseconds(100), time);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string Name { get; } = name;

    public async ValueTask<MoistureReading> ReadAsync(CancellationToken cancellationToken)
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

    private async ValueTask<MoistureReading> ReadOnceAsync(CancellationToken cancellationToken)
    {
        line.DiscardInput();
        await line.WriteLineAsync("SEND", "\r", cancellationToken).ConfigureAwait(false);
        var answer = await line.ReadLineAsync(timeout, cancellationToken).ConfigureAwait(false);
        if (answer.Trim() == "SEND")
        {
            // Transmitters in echo mode repeat the command first.
            answer = await line.ReadLineAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        return Parse(answer, line.Name, pressureHPa);
    }

    internal static MoistureReading Parse(string answer, string port, double pressureHPa)
    {
        var tdf = TdfPattern().Match(answer);
        // A dew point outside -150..+100 C is no reading but line noise (and would break the frost-point conversion).
        if (!tdf.Success || !TryNumber(tdf.Groups[1].Value, out var dewPointC) || dewPointC is < -150 or > 100)
        {
            throw new DeviceProtocolException(
                $"Dew-point transmitter on '{port}' answered '{RapidoxOxygenSensor.Printable(answer)}' to 'SEND'; expected 'Tdf= <C> 'C ...'.");
        }
        var h2o = H2oPattern().Match(answer);
        if (h2o.Success)
        {
            if (!TryNumber(h2o.Groups[1].Value, out var ppm) || ppm < 0)
            {
                throw new DeviceProtocolException(
                    $"Dew-point transmitter on '{port}' sent H2O '{RapidoxOxygenSensor.Printable(h2o.Groups[1].Value)}', not a ppm value.");
            }
            return new MoistureReading(dewPointC, ppm);
        }
        return new MoistureReading(dewPointC, FrostPoint.PpmvFromFrostPointC(dewPointC, pressureHPa));
    }

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    [GeneratedRegex(@"\bTdf=\s*(\S+)\s*'C")]
    private static partial Regex TdfPattern();

    [GeneratedRegex(@"\bH2O=\s*(\S+)\s*ppm", RegexOptions.IgnoreCase)]
    private static partial Regex H2oPattern();

    public ValueTask DisposeAsync()
    {
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }
}
