using Seccm.Devices;
using Seccm.Devices.Modbus;
using Seccm.Electrochemistry.Atmosphere;

namespace Seccm.Glovebox.Sensors;

/// <summary>
/// Dew-point transmitter on Modbus RTU: frost point (C) as a 32-bit float at <c>dewPointRegister</c> and,
/// if the transmitter has one, H2O ppmv at <c>ppmRegister</c>; otherwise ppmv is computed from the frost point.
/// </summary>
internal sealed class ModbusMoistureSensor(
    string name, ModbusRtuMaster master, byte slaveAddress, ushort dewPointRegister, ushort? ppmRegister,
    ModbusWordOrder wordOrder, double pressureHPa) : IMoistureSensor
{
    public string Name { get; } = name;

    public async ValueTask<MoistureReading> ReadAsync(CancellationToken cancellationToken)
    {
        var dewPointC = await master.ReadFloatAsync(slaveAddress, dewPointRegister, wordOrder, cancellationToken).ConfigureAwait(false);
        Check(dewPointC, "dew point", dewPointRegister);
        if (ppmRegister is { } register)
        {
            var ppm = await master.ReadFloatAsync(slaveAddress, register, wordOrder, cancellationToken).ConfigureAwait(false);
            Check(ppm, "H2O ppm", register);
            return new MoistureReading(dewPointC, ppm);
        }
        return new MoistureReading(dewPointC, FrostPoint.PpmvFromFrostPointC(dewPointC, pressureHPa));
    }

    private void Check(float value, string what, ushort register)
    {
        // A wrong word order or register address shows up as absurd floats: say so instead of publishing them.
        var plausible = what == "dew point" ? value is > -120f and < 60f : value is >= 0f and < 1e6f;
        if (!float.IsFinite(value) || !plausible)
        {
            throw new DeviceProtocolException(
                $"Modbus slave {slaveAddress} on '{master.Port}' register {register} gave {what} {value}; check the register address and word order ({wordOrder}).");
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
