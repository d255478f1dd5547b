using System.Globalization;
using Seccm.Devices.Serial;

namespace Seccm.Devices.Emulators.Glovebox;

/// <summary>
/// A polled O2 analyser (Rapidox style): <c>D\r</c> answers <c>d2.959E+05,2.150E+01,1.013E+03\r\n</c>
/// (O2 ppm, sensor temperature C, pressure mbar). Other commands answer <c>?\r\n</c>.
/// </summary>
public sealed class RapidoxOxygenEmulator(ISerialLine line, TimeProvider? time = null) : AsciiCommandEmulator(line, time)
{
    private double _o2Ppm = 1.0;

    public double O2Ppm
    {
        get => Volatile.Read(ref _o2Ppm);
        set => Volatile.Write(ref _o2Ppm, value);
    }

    protected override string GarbledAnswer => "d#.9?E+0,,\u007f\r\n";

    protected override string Answer(string command) => command == "D"
        ? string.Create(CultureInfo.InvariantCulture, $"d{O2Ppm:0.000E+00},{21.5:0.000E+00},{1013.0:0.000E+00}\r\n")
        : "?\r\n";
}
