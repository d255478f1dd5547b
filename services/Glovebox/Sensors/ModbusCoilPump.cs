using Seccm.Devices.Modbus;

namespace Seccm.Glovebox.Sensors;

/// <summary>The circulation pump on a Modbus coil of the glovebox controller (function 05 to switch, 01 to read back).</summary>
internal sealed class ModbusCoilPump(string name, ModbusRtuMaster master, byte slaveAddress, ushort coil) : IPump
{
    public string Name { get; } = name;

    public async ValueTask SetAsync(bool on, CancellationToken cancellationToken) =>
        await master.WriteSingleCoilAsync(slaveAddress, coil, on, cancellationToken).ConfigureAwait(false);

    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken) =>
        (await master.ReadCoilsAsync(slaveAddress, coil, 1, cancellationToken).ConfigureAwait(false))[0];

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
