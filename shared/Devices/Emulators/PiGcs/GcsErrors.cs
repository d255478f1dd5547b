namespace Seccm.Devices.Emulators.PiGcs;

/// <summary>The PI GCS error codes that <c>ERR?</c> reports, shared by the emulator and the driver.</summary>
public static class GcsErrors
{
    public const int None = 0;
    public const int ParameterSyntax = 1;
    public const int UnknownCommand = 2;
    public const int MoveWithoutServo = 5;
    public const int PositionOutOfLimits = 7;
    public const int VelocityOutOfLimits = 8;
    public const int ControllerStopped = 10;
    public const int InvalidAxis = 15;
    public const int ParameterOutOfRange = 17;
    public const int WrongNumberOfParameters = 24;
    public const int InvalidFloat = 25;
    public const int MissingParameter = 26;
    public const int Unknown = 555;

    /// <summary>The controller manual's meaning of an error code.</summary>
    public static string Meaning(int code) => code switch
    {
        None => "no error",
        ParameterSyntax => "parameter syntax error",
        UnknownCommand => "unknown command",
        MoveWithoutServo => "move without servo on or without a reference move",
        PositionOutOfLimits => "position out of limits",
        VelocityOutOfLimits => "velocity out of limits",
        ControllerStopped => "controller was stopped by command",
        InvalidAxis => "invalid axis identifier",
        ParameterOutOfRange => "parameter out of range",
        WrongNumberOfParameters => "wrong number of parameters",
        InvalidFloat => "invalid floating point number",
        MissingParameter => "parameter missing",
        Unknown => "unknown error",
        _ => $"controller error {code}",
    };
}
