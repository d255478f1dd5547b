using BenchmarkDotNet.Attributes;
using Seccm.Electrochemistry.Simulation;

namespace Seccm.Benchmarks;

/// <summary>
/// The CV simulator behind the simulated potentiostat and <c>seccm simulate</c>: one LTO CV at the slowest rate of the D
/// map as the baseline, against the fastest rate and a whole pixel (five rates).
/// </summary>
[MemoryDiagnoser]
public class SimulationBenchmarks
{
    private Electrode _electrode = null!;
    private CvProtocol _slowest = null!;
    private CvProtocol _fastest = null!;

    [GlobalSetup]
    public void Setup()
    {
        _electrode = LtoPixel.Electrode(noiseSeed: 1);
        _slowest = LtoPixel.Protocol(LtoPixel.RatesVPerS[0]);
        _fastest = LtoPixel.Protocol(LtoPixel.RatesVPerS[^1]);
    }

    [Benchmark(Baseline = true)]
    public SimulatedCurve OneCvAtTheSlowestRate() => CvSimulator.Cv(_electrode, _slowest);

    [Benchmark]
    public SimulatedCurve OneCvAtTheFastestRate() => CvSimulator.Cv(_electrode, _fastest);

    [Benchmark]
    public SimulatedCurve[] OnePixelAtFiveRates() => LtoPixel.Simulate();
}
