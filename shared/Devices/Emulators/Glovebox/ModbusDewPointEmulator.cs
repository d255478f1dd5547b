using Seccm.Devices.Modbus;
using Seccm.Devices.Serial;

namespace Seccm.Devices.Emulators.Glovebox;

/// <summary>
/// A dew-point transmitter on Modbus RTU: dew/frost point in C and H2O in ppmv as 32-bit floats in holding
/// registers (addresses and word order configurable, as on real transmitters).
/// </summary>
public sealed class ModbusDewPointEmulator : ModbusSlaveEmulator
{
    private readonly ushort _dewPointRegister;
    private readonly ushort _ppmRegister;
    private readonly ModbusWordOrder _order;

    public ModbusDewPointEmulator(ISerialLine line, byte slaveAddress, ushort dewPointRegister, ushort ppmRegister,
        ModbusWordOrder order, TimeProvider? time = null)
        : base(line, slaveAddress, time)
    {
        _dewPointRegister = dewPointRegister;
        _ppmRegister = ppmRegister;
        _order = order;
        Set(-75, 1.17);
    }

    /// <summary>Sets what the transmitter reports from now on.</summary>
    public void Set(double dewPointC, double h2oPpm)
    {
        SetFloat(_dewPointRegister, (float)dewPointC, _order);
        SetFloat(_ppmRegister, (float)h2oPpm, _order);
    }
}
