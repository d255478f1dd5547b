namespace Seccm.Glovebox.Sensors;

/// <summary>An O2 analyser. Reads throw <see cref="Seccm.Devices.DeviceException"/> with the port in the message.</summary>
public interface IOxygenSensor : IAsyncDisposable
{
    /// <summary>Configured name, used in telemetry and error messages.</summary>
    string Name { get; }

    ValueTask<double> ReadO2PpmAsync(CancellationToken cancellationToken);
}

/// <summary>One moisture reading: frost point and volume fraction of water.</summary>
public readonly record struct MoistureReading(double DewPointC, double H2oPpm);

/// <summary>An H2O (dew-point) transmitter.</summary>
public interface IMoistureSensor : IAsyncDisposable
{
    string Name { get; }

    ValueTask<MoistureReading> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>The circulation pump's relay. <see cref="SetAsync"/> returns only once the device confirmed the state.</summary>
public interface IPump : IAsyncDisposable
{
    string Name { get; }

    ValueTask SetAsync(bool on, CancellationToken cancellationToken);

    ValueTask<bool> ReadAsync(CancellationToken cancellationToken);
}
