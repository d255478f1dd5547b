using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace Seccm.Benchmarks.Tests;

/// <summary>
/// Every benchmark method runs once, untimed, as a smoke check (BenchmarkDotNet itself never runs in the test suite), and
/// every class keeps the shape the README promises: one baseline and the memory diagnoser.
/// </summary>
public class SmokeTests
{
    public static TheoryData<string> Classes()
    {
        var data = new TheoryData<string>();
        foreach (var type in BenchmarkClasses()) data.Add(type.Name);
        return data;
    }

    [Fact]
    public void There_are_analysis_parsing_and_simulation_benchmarks()
    {
        Assert.Equal(["AnalysisBenchmarks", "ParsingBenchmarks", "SimulationBenchmarks"], BenchmarkClasses().Select(t => t.Name).Order());
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void Each_class_has_one_baseline_and_the_memory_diagnoser(string name)
    {
        var type = BenchmarkClasses().Single(t => t.Name == name);
        Assert.NotNull(type.GetCustomAttribute<MemoryDiagnoserAttribute>());
        Assert.Single(Benchmarks(type), m => m.GetCustomAttribute<BenchmarkAttribute>()!.Baseline);
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void Each_benchmark_runs_once_and_returns_a_result(string name)
    {
        var type = BenchmarkClasses().Single(t => t.Name == name);
        var instance = Activator.CreateInstance(type)!;
        foreach (var setup in type.GetMethods().Where(m => m.GetCustomAttribute<GlobalSetupAttribute>() is not null)) setup.Invoke(instance, null);
        foreach (var method in Benchmarks(type))
        {
            var result = method.Invoke(instance, null);
            switch (result)
            {
                case null:
                    Assert.Fail($"{name}.{method.Name} returned null");
                    break;
                case double d:
                    Assert.True(double.IsFinite(d) && d != 0, $"{name}.{method.Name} returned {d}");
                    break;
                case Array a:
                    Assert.True(a.Length > 0, $"{name}.{method.Name} returned an empty array");
                    break;
            }
        }
    }

    [Fact]
    public void The_parsing_baseline_and_our_reader_read_the_same_currents()
    {
        var parsing = new ParsingBenchmarks();
        parsing.Setup();
        // double.Parse is the oracle of our reader's number parsing: the same doubles, summed in the same order.
        Assert.Equal(parsing.SplitAndParse(), parsing.LongCsvReaderCurves());
    }

    [Fact]
    public void The_simulated_pixel_has_one_cv_per_rate_at_1_mV_steps()
    {
        var curves = LtoPixel.Simulate();
        Assert.Equal(LtoPixel.RatesVPerS.Length, curves.Length);
        foreach (var curve in curves)
        {
            Assert.InRange(Math.Abs(curve.PotentialV[1] - curve.PotentialV[0]), 0.999 * LtoPixel.StepV, 1.001 * LtoPixel.StepV);
        }
    }

    private static IEnumerable<Type> BenchmarkClasses() =>
        typeof(LtoPixel).Assembly.GetTypes().Where(t => t.IsClass && !t.IsAbstract && Benchmarks(t).Any());

    private static IEnumerable<MethodInfo> Benchmarks(Type type) =>
        type.GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null);
}
