using System.Globalization;
using Seccm.Devices.Serial;

namespace Seccm.Devices.Emulators.Glovebox;

/// <summary>
/// A serial relay board speaking our documented ASCII protocol (services/Glovebox/Sensors/RelayBoardProtocol.md):
/// <c>R1 ON\r</c> / <c>R1 OFF\r</c> answer <c>OK\r\n</c>; <c>R1?\r</c> answers <c>R1 ON\r\n</c> or <c>R1 OFF\r\n</c>;
/// anything wrong answers <c>ERR text\r\n</c>.
/// </summary>
public sealed class RelayBoardEmulator(ISerialLine line, int relayCount = 4, TimeProvider? time = null) : AsciiCommandEmulator(line, time)
{
    private readonly bool[] _relays = new bool[relayCount];

    /// <summary>State of relay <paramref name="relay"/> (1-based, as on the board).</summary>
    public bool IsOn(int relay)
    {
        lock (_relays)
        {
            return _relays[relay - 1];
        }
    }

    protected override string GarbledAnswer => "O\u0000K?\r\n";

    protected override string Answer(string command) => Execute(command.Trim().ToUpperInvariant()) + "\r\n";

    private string Execute(string command)
    {
        if (!command.StartsWith('R'))
        {
            return $"ERR unknown command '{command}'";
        }
        var query = command.EndsWith('?');
        var parts = command[1..].TrimEnd('?').Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var relay))
        {
            return $"ERR no relay number in '{command}'";
        }
        if (relay < 1 || relay > _relays.Length)
        {
            return $"ERR relay {relay} out of range 1..{_relays.Length}";
        }
        lock (_relays)
        {
            if (query && parts.Length == 1)
            {
                return $"R{relay} {(_relays[relay - 1] ? "ON" : "OFF")}";
            }
            if (!query && parts.Length == 2 && parts[1] is "ON" or "OFF")
            {
                _relays[relay - 1] = parts[1] == "ON";
                return "OK";
            }
        }
        return $"ERR cannot parse '{command}'";
    }
}
