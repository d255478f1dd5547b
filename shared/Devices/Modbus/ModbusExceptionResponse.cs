namespace Seccm.Devices.Modbus;

/// <summary>
/// A Modbus slave understood the request and refused it (function | 0x80 + exception code). Retrying does
/// not help: the request or the slave's configuration must change.
/// </summary>
public sealed class ModbusExceptionResponse(string port, byte slaveAddress, byte function, byte exceptionCode)
    : DeviceException(
        $"Modbus slave {slaveAddress} on '{port}' refused function 0x{function:X2} with exception {exceptionCode} ({Describe(exceptionCode)}).")
{
    public byte SlaveAddress { get; } = slaveAddress;

    public byte Function { get; } = function;

    public byte ExceptionCode { get; } = exceptionCode;

    public static string Describe(byte exceptionCode) => exceptionCode switch
    {
        1 => "illegal function: the slave does not support this function code",
        2 => "illegal data address: check the register or coil address in the configuration",
        3 => "illegal data value: the quantity or value is out of range",
        4 => "slave device failure",
        5 => "acknowledge: the slave is busy with a long operation",
        6 => "slave device busy",
        8 => "memory parity error",
        10 => "gateway path unavailable",
        11 => "gateway target device failed to respond",
        _ => "unknown exception code",
    };
}
