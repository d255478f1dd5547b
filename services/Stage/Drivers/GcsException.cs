using Seccm.Devices;
using Seccm.Devices.Emulators.PiGcs;

namespace Seccm.Stage.Drivers;

/// <summary>The PI controller reported an error code through <c>ERR?</c> after a command.</summary>
public sealed class GcsException(string port, string command, int code)
    : DeviceException($"PI controller on '{port}' refused '{command}': error {code} ({GcsErrors.Meaning(code)}).")
{
    public string Port { get; } = port;
    public string Command { get; } = command;
    public int Code { get; } = code;

    /// <summary>What the controller manual says the code means.</summary>
    public string Meaning => GcsErrors.Meaning(Code);
}
