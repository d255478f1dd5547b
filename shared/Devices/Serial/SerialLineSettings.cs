using System.Globalization;
using System.IO.Ports;

namespace Seccm.Devices.Serial;

/// <summary>
/// How a serial line frames its characters: baud rate, data bits, parity and stop bits (e.g. "19200 8E1"). Every serial
/// device has them as options; each driver knows its vendor's defaults (<see cref="Parse"/> fills in what is not set).
/// </summary>
public sealed record SerialLineSettings(int BaudRate, int DataBits = 8, Parity Parity = Parity.None, StopBits StopBits = StopBits.One)
{
    /// <summary>Bits on the wire per character: start, data, parity (if any) and stop bits (1.5 counts as 2).</summary>
    public int BitsPerCharacter => 1 + DataBits + (Parity == Parity.None ? 0 : 1) + (StopBits == StopBits.One ? 1 : 2);

    /// <summary>"19200 8E1", "115200 8N1", "9600 7E1.5".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{BaudRate} {DataBits}{ParityLetter(Parity)}{StopBits switch { StopBits.OnePointFive => "1.5", StopBits.Two => "2", _ => "1" }}");

    /// <summary>
    /// Settings from configuration: any of <paramref name="baudRate"/>, <paramref name="dataBits"/>,
    /// <paramref name="parity"/> (none, even, odd, mark, space or N/E/O/M/S) and <paramref name="stopBits"/> (1, 1.5, 2)
    /// left null takes the device's default. Returns the problems, each naming <paramref name="where"/> and the key,
    /// and null settings when there is any.
    /// </summary>
    public static (SerialLineSettings? Settings, IReadOnlyList<string> Problems) Parse(
        string where, SerialLineSettings defaults, int? baudRate, int? dataBits, string? parity, string? stopBits)
    {
        var problems = new List<string>();
        var baud = baudRate ?? defaults.BaudRate;
        if (baud is < 50 or > 4_000_000)
        {
            problems.Add($"{where}:BaudRate: {baud} is not a baud rate (50-4000000).");
        }
        var bits = dataBits ?? defaults.DataBits;
        if (bits is < 5 or > 8)
        {
            problems.Add($"{where}:DataBits: {bits} must be 5, 6, 7 or 8.");
        }
        var parsedParity = defaults.Parity;
        if (!string.IsNullOrWhiteSpace(parity))
        {
            switch (parity.Trim().ToLowerInvariant())
            {
                case "none" or "n": parsedParity = Parity.None; break;
                case "even" or "e": parsedParity = Parity.Even; break;
                case "odd" or "o": parsedParity = Parity.Odd; break;
                case "mark" or "m": parsedParity = Parity.Mark; break;
                case "space" or "s": parsedParity = Parity.Space; break;
                default:
                    problems.Add($"{where}:Parity: '{parity}' is not a parity; use none, even, odd, mark or space.");
                    break;
            }
        }
        var parsedStop = defaults.StopBits;
        if (!string.IsNullOrWhiteSpace(stopBits))
        {
            switch (stopBits.Trim())
            {
                case "1": parsedStop = StopBits.One; break;
                case "1.5": parsedStop = StopBits.OnePointFive; break;
                case "2": parsedStop = StopBits.Two; break;
                default:
                    problems.Add($"{where}:StopBits: '{stopBits}' is not a number of stop bits; use 1, 1.5 or 2.");
                    break;
            }
        }
        if (parsedStop == StopBits.OnePointFive && bits != 5)
        {
            // UARTs (and the Linux serial driver) have 1.5 stop bits only with 5 data bits.
            problems.Add($"{where}:StopBits: 1.5 stop bits go only with 5 data bits, not {bits}.");
        }
        return problems.Count > 0 ? (null, problems) : (new SerialLineSettings(baud, bits, parsedParity, parsedStop), problems);
    }

    private static char ParityLetter(Parity parity) => parity switch
    {
        Parity.Even => 'E',
        Parity.Odd => 'O',
        Parity.Mark => 'M',
        Parity.Space => 'S',
        _ => 'N',
    };
}
