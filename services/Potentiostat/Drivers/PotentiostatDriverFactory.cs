using Seccm.Electrochemistry.Samples;
using Seccm.Potentiostat.Drivers.MethodScript;

namespace Seccm.Potentiostat.Drivers;

/// <summary>Creates the driver named by <see cref="PotentiostatOptions.Driver"/>.</summary>
internal static class PotentiostatDriverFactory
{
    // The simulated driver runs on the simulated world's clock (accelerated in the demo), the real device on wall time.
    public static IPotentiostat Create(PotentiostatOptions options, IPipettePositionSource position, TimeProvider time, TimeProvider simulationTime) =>
        options.Driver switch
        {
            PotentiostatOptions.Simulated => new SimulatedPotentiostat(
                SampleCatalog.Create(options.Sample, options.SampleSeed),
                new PipetteSettings(RadiusNm: options.PipetteRadiusNm, NoiseRmsA: options.NoiseRmsA, NoiseSeed: options.Seed),
                position, simulationTime,
                new SimulatedPotentiostatOptions(ChunkSize: options.ChunkSamples, MeniscusUm: options.MeniscusUm,
                    OpenCircuitNoiseRmsA: options.NoiseRmsA, Seed: options.Seed, RealTime: true)),
            PotentiostatOptions.MethodScript => MethodScriptPotentiostat.Open(options.Port!, options.Line,
                new MethodScriptOptions(TimeSpan.FromMilliseconds(options.ResponseTimeoutMs), options.ChunkSamples, options.Family),
                time),
            _ => throw new InvalidOperationException($"Potentiostat:Driver '{options.Driver}' is unknown: use 'simulated' or 'methodscript'."),
        };
}
