using Seccm.Glovebox.Simulation;

namespace Seccm.Glovebox.Sensors;

/// <summary>O2 analyser reading the simulated glovebox.</summary>
internal sealed class SimulatedOxygenSensor(string name, GloveboxSimulation simulation) : IOxygenSensor
{
    public string Name { get; } = name;

    public ValueTask<double> ReadO2PpmAsync(CancellationToken cancellationToken) => ValueTask.FromResult(simulation.Sample().O2Ppm);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Dew-point transmitter reading the simulated glovebox.</summary>
internal sealed class SimulatedMoistureSensor(string name, GloveboxSimulation simulation) : IMoistureSensor
{
    public string Name { get; } = name;

    public ValueTask<MoistureReading> ReadAsync(CancellationToken cancellationToken)
    {
        var sample = simulation.Sample();
        return ValueTask.FromResult(new MoistureReading(sample.DewPointC, sample.H2oPpm));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A relay that drives the simulated glovebox's circulation.</summary>
internal sealed class SimulatedPump(string name, GloveboxSimulation simulation) : IPump
{
    public string Name { get; } = name;

    public ValueTask SetAsync(bool on, CancellationToken cancellationToken)
    {
        simulation.CirculationOn = on;
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> ReadAsync(CancellationToken cancellationToken) => ValueTask.FromResult(simulation.CirculationOn);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
