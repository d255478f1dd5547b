using System.Globalization;
using Seccm.Devices.Serial;

namespace Seccm.Devices.Emulators.Glovebox;

/// <summary>
/// An ASCII dew-point transmitter (Vaisala style): <c>SEND\r</c> answers
/// <c>Tdf= -75.00 'C Tdfatm= -75.00 'C H2O=    1.17 ppm\r\n</c>. Other commands answer <c>Unknown command\r\n</c>.
/// </summary>
public sealed class VaisalaDewPointEmulator(ISerialLine line, TimeProvider? time = null) : AsciiCommandEmulator(line, time)
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

    protected override string GarbledAnswer => "Tdf= ##.#\u0001'C Tdfa\r\n";

    protected override string Answer(string command) => command.Trim().Equals("SEND", StringComparison.OrdinalIgnoreCase)
        ? string.Create(CultureInfo.InvariantCulture, $"Tdf= {DewPointC,6:0.00} 'C Tdfatm= {DewPointC,6:0.00} 'C H2O= {H2oPpm,7:0.00} ppm\r\n")
        : "Unknown command\r\n";
}
