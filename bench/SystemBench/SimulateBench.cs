using System.Diagnostics;
using Seccm.Electrochemistry.Samples;
using Seccm.Electrochemistry.Simulation;
using Seccm.Host.Verbs;

namespace Seccm.Host.Bench;

/// <summary>
/// <c>seccm-bench simulate</c>: simulated CVs per second for one LTO pixel at 1 mV steps, on one thread and on every core
/// in the same run; the ratio says how well the simulator scales (no shared state between curves).
/// </summary>
internal static class SimulateBench
{
    public static int Run(int count, string ratesText, BenchReport report)
    {
        if (count is < 1 or > 1_000_000) return BenchVerb.Fail("simulate", $"--count {count}: must be between 1 and 1000000 CVs");
        if (!BenchVerb.TryParseRates(ratesText, out var rates, out var error)) return BenchVerb.Fail("simulate", error);

        var sample = SampleCatalog.Create("lto", 1);
        var (start, vertex) = sample.DefaultWindowV;
        double centreUm = sample.ScanSizeUm / 2;
        var protocols = rates.Select(r => new CvProtocol(start, vertex, start, 0.001, r)).ToArray();
        int Simulate(int i)
        {
            var electrode = sample.ElectrodeAt(centreUm, centreUm, new PipetteSettings(NoiseRmsA: 0.1e-12, NoiseSeed: i));
            return CvSimulator.Cv(electrode, protocols[i % protocols.Length]).Count;
        }

        // JIT and first-touch costs belong to neither side.
        for (int i = 0; i < protocols.Length; i++) Simulate(i);

        var started = Stopwatch.GetTimestamp();
        long samples = 0;
        for (int i = 0; i < count; i++) samples += Simulate(i);
        double single = Stopwatch.GetElapsedTime(started).TotalSeconds;

        int cores = Environment.ProcessorCount;
        long parallelSamples = 0;
        started = Stopwatch.GetTimestamp();
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = cores },
            () => 0L, (i, _, local) => local + Simulate(i), local => Interlocked.Add(ref parallelSamples, local));
        double parallel = Stopwatch.GetElapsedTime(started).TotalSeconds;

        report.Add("cvs", count, "", $"LTO, 1 mV steps, rates {string.Join(",", rates)} V/s in turn");
        report.Add("samples_per_cv", samples / (double)count, "");
        report.Add("single_thread_cvs_per_s", count / single, "1/s");
        report.Add("single_thread_ms_per_cv", 1000 * single / count, "ms");
        report.Add("all_cores_cvs_per_s", count / parallel, "1/s", $"{cores} cores");
        report.Add("all_cores_samples_per_s", parallelSamples / parallel, "1/s");
        report.Add("ratio_all_cores_over_single", single / parallel, "x", $"ideal {cores}");
        report.Add("parallel_efficiency", single / parallel / cores, "", "ratio / cores");
        double mapCvs = 64 * 64 * 5;
        report.Add("paper_d_map_64x64x5_estimate_s", mapCvs / (count / parallel), "s", "20480 CVs at the all-core rate");
        return 0;
    }
}
