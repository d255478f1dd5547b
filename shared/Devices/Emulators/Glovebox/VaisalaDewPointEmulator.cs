using System.Globalization;
using Seccm.Devices.Serial;

namespace Seccm.Devices.Emulators.Glovebox;

/// <summary>
/// An ASCII dew-point transmitter (Vaisala style): <c>SEND\r</c> answers
/// <c>Tdf= -75.00 'C Tdfatm= -75.00 'C H2O=    1.17 ppm\r\n</c>. Other commands answer <c>Unknown command\r\n</c>.
/// </summary>
public sealed class VaisalaDewPointEmulator(ISerialLine line, TimeProvider? time = null) : DeviceEmulator(line, time)
{
    private double _dewPointC = -75;
    private double _h2oPpm = 1.17;

    public double DewPointC
    {
        get => Volatile.Read(ref _dewPointC);
        set => Volatile.Write(ref _dewPointC, value);
    }

    public double H2oPpm
    {
        get => Volatile.Read(ref _h2oPpm);
        set => Volatile.Write(ref _h2oPpm, value);
    }

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var command = await ReadCommandAsync(cancellationToken).ConfigureAwait(false);
            CountRequest();
            if (Faults.Silent)
            {
                continue;
            }
            string answer;
            if (Faults.TakeGarbled())
            {
                answer = "Tdf= ##.#\u0001'C Tdfa\r\n";
            }
            else if (command.Trim().Equals("SEND", StringComparison.OrdinalIgnoreCase))
            {
                answer = string.Create(CultureInfo.InvariantCulture,
                    $"Tdf= {DewPointC,6:0.00} 'C Tdfatm= {DewPointC,6:0.00} 'C H2O= {H2oPpm,7:0.00} ppm\r\n");
            }
            else
            {
                answer = "Unknown command\r\n";
            }
            await WriteAsciiAsync(answer, cancellationToken).ConfigureAwait(false);
        }
    }
}
