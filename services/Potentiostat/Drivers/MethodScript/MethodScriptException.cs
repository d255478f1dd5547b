using System.Globalization;
using Seccm.Devices;

namespace Seccm.Potentiostat.Drivers.MethodScript;

/// <summary>The device answered <c>!XXXX</c>: a MethodSCRIPT error, with its code, what it means, and where.</summary>
/// <param name="port">The serial port of the device.</param>
/// <param name="code">The code after '!'.</param>
/// <param name="scriptLine">The script line the device blames, when it says.</param>
/// <param name="scriptColumn">The column the device blames, when it says.</param>
/// <param name="reply">The whole reply line.</param>
/// <param name="during">What was running (e.g. "the charge/discharge script"), when known.</param>
/// <param name="lineText">The script line the device blames, as it was sent, when known.</param>
public sealed class MethodScriptException(string port, int code, int? scriptLine, int? scriptColumn, string reply, string? during = null, string? lineText = null)
    : DeviceException(Describe(port, code, scriptLine, scriptColumn, reply, during, lineText))
{
    /// <summary>The error code as the device writes it (hex digits read as a number, e.g. 0x4205).</summary>
    public int Code { get; } = code;

    /// <summary>The script line the device blames (1 = the first line after <c>e</c>), when it says.</summary>
    public int? ScriptLine { get; } = scriptLine;

    public string Meaning => MeaningOf(Code);

    /// <summary>What a code means (MethodSCRIPT manual's error table; codes we have no text for are named by group).</summary>
    public static string MeaningOf(int code) => code switch
    {
        0x0001 => "unspecified error",
        0x0002 => "invalid variable type",
        0x0003 => "invalid command (not recognised)",
        0x0004 => "unknown register",
        0x0005 => "register is read-only",
        0x0006 => "invalid argument (or nothing to abort)",
        0x0007 => "argument out of range",
        0x4205 => "not supported by this device",
        >= 0x4001 and <= 0x4027 => "script error (the script is malformed or uses a variable wrongly)",
        >= 0x4000 and <= 0x4FFF => "script error",
        _ => "device error",
    };

    private static string Describe(string port, int code, int? line, int? column, string reply, string? during, string? lineText)
    {
        var where = line is null ? "" : column is null
            ? string.Create(CultureInfo.InvariantCulture, $" at script line {line}")
            : string.Create(CultureInfo.InvariantCulture, $" at script line {line}, column {column}");
        var sent = lineText is null ? "" : $" ('{MethodScriptPackage.Shorten(lineText.Trim())}')";
        var running = during is null ? "" : $" running {during}";
        return string.Create(CultureInfo.InvariantCulture,
            $"Potentiostat on '{port}' reported MethodSCRIPT error {code:X4} ({MeaningOf(code)}){running}{where}{sent}; reply was '{MethodScriptPackage.Shorten(reply)}'.");
    }
}
