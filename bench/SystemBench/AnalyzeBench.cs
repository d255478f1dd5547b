using System.Collections.Concurrent;
using System.Diagnostics;
using Seccm.Electrochemistry.Analysis;
using Seccm.Electrochemistry.Samples;
using Seccm.Host.Verbs;

namespace Seccm.Host.Bench;

/// <summary>
/// <c>seccm bench analyze</c>: times the streaming, all-core core of <c>seccm analyze</c> against <see cref="NaiveAnalysis"/>
/// on the same files in the same run, at two file sizes, so the table shows both the speed-up and that the streaming
/// reader's peak memory does not grow with the file while the baseline's does.
/// </summary>
internal static class AnalyzeBench
{
    internal sealed record Options(int Size, string RatesText, FileInfo? Input, DirectoryInfo? WorkDir, bool SkipBaseline);

    public static int Run(Options options, BenchReport report, TextWriter log)
    {
        var time = TimeProvider.System;
        var settings = new AnalysisSettings
        {
            RadiusNm = SampleDefaults.PipetteRadiusNm,
            ConcentrationMolCm3 = SampleDefaults.LtoConcentrationMolCm3,
        };
        string? ownedDir = null;
        var files = new List<(string Label, string Path)>();
        try
        {
            if (options.Input is { } input)
            {
                if (!input.Exists) return BenchVerb.Fail("analyze", $"--input {input.FullName}: the file does not exist");
                files.Add(("input", input.FullName));
            }
            else
            {
                if (options.Size is < 2 or > 256) return BenchVerb.Fail("analyze", $"--size {options.Size}: must be between 2 and 256 pixels per side");
                var dir = options.WorkDir?.FullName ?? (ownedDir = Directory.CreateTempSubdirectory("seccm-bench-analyze-").FullName);
                Directory.CreateDirectory(dir);
                // Half the side is a quarter of the file: enough to see whether memory follows the file size.
                foreach (int side in new[] { options.Size / 2, options.Size }.Distinct())
                {
                    var path = Path.Combine(dir, $"bench_{side}x{side}.csv");
                    log.WriteLine($"generating {path} ...");
                    var started = Stopwatch.GetTimestamp();
                    int code = SimulateVerb.Run(new FileInfo(path), "lto", side, options.RatesText, seed: 1, noiseA: 0.1e-12);
                    if (code != 0) return code;
                    report.Add($"generate_{side}x{side}_s", Stopwatch.GetElapsedTime(started).TotalSeconds, "s", "seccm simulate, all cores");
                    files.Add(($"{side}x{side}", path));
                }
            }

            // JIT and first-touch costs go to a 1-pixel file that neither side is timed on.
            var warmDir = Directory.CreateTempSubdirectory("seccm-bench-warmup-").FullName;
            try
            {
                var warm = Path.Combine(warmDir, "warmup.csv");
                using (var quiet = new StringWriter())
                {
                    var console = Console.Out;
                    Console.SetOut(quiet);
                    try
                    {
                        if (SimulateVerb.Run(new FileInfo(warm), "lto", 1, options.RatesText, seed: 2, noiseA: 0.1e-12) != 0) return 2;
                    }
                    finally
                    {
                        Console.SetOut(console);
                    }
                }
                using (var stream = AnalyzeVerb.OpenInput(warm)) AnalyzeVerb.AnalyzeStream(stream, warm, settings, [], null);
                if (!options.SkipBaseline) NaiveAnalysis.Run(warm, settings);
            }
            finally
            {
                Directory.Delete(warmDir, recursive: true);
            }

            foreach (var (label, path) in files)
            {
                long bytes = new FileInfo(path).Length;
                long samples = CountRows(path);
                report.Add($"file_{label}_mb", bytes / 1e6, "MB", $"{samples} samples");

                var (coreS, coreCpu, coreJit, coreWs, coreHeap, coreAlloc, corePixels, coreMedian) = Measure(time, () =>
                {
                    var rows = new ConcurrentBag<AnalyzeVerb.PixelRow>();
                    using var stream = AnalyzeVerb.OpenInput(path);
                    AnalyzeVerb.AnalyzeStream(stream, path, settings, rows, null);
                    return rows.Select(r => r.Result).ToList();
                });
                report.Add($"core_{label}_wall_s", coreS, "s", $"seccm analyze core, {Environment.ProcessorCount} cores, {corePixels} pixels");
                report.Add($"core_{label}_cpu_s", coreCpu, "s", "CPU time of the process during the core (all threads, JIT included): steadier than wall on a shared machine");
                report.Add($"core_{label}_jit_s", coreJit, "s", "time the JIT compiled during the core (part of cpu_s)");
                report.Add($"core_{label}_samples_per_s", samples / coreS, "1/s");
                report.Add($"core_{label}_peak_working_set_mb", coreWs / 1e6, "MB", "polled during the phase");
                report.Add($"core_{label}_peak_managed_heap_mb", coreHeap / 1e6, "MB");
                report.Add($"core_{label}_allocated_mb", coreAlloc / 1e6, "MB");
                report.Add($"core_{label}_median_d_cm2_s", coreMedian, "cm^2/s");
                report.Add($"core_{label}_pixels_per_s_per_core", corePixels / coreS / Environment.ProcessorCount, "1/s",
                    "whole file incl. reading; a 64x64 scan of 5-rate CVs makes about 1 pixel/s");
                if (NumpyBaseline.Run(path, settings, log) is { } numpy)
                {
                    report.Add($"numpy_{label}_wall_s", numpy.WallS, "s", "bench/baseline/analyze_plain.py, plain Randles-Sevcik, 1 thread, process start excluded");
                    report.Add($"numpy_{label}_peak_rss_mb", numpy.PeakRssMb, "MB");
                    report.Add($"numpy_{label}_median_d_cm2_s", numpy.MedianD, "cm^2/s", "plain RS (compare core's d_rs)");
                    report.Add($"ratio_{label}_numpy_over_core", numpy.WallS / coreS, "x", "numpy wall / core wall (goal >= 5)");
                }

                // The reader alone, one thread: if it is close to the core's wall time, the core is bound by reading, not analysis.
                var readStarted = Stopwatch.GetTimestamp();
                long curves = 0;
                using (var stream = AnalyzeVerb.OpenInput(path))
                {
                    foreach (var _ in Seccm.Maps.LongCsv.LongCsvReader.ReadCurves(stream, path)) curves++;
                }
                double readS = Stopwatch.GetElapsedTime(readStarted).TotalSeconds;
                report.Add($"read_only_{label}_wall_s", readS, "s", $"LongCsvReader alone, 1 thread, {curves} curves");
                report.Add($"ratio_{label}_read_only_over_core", readS / coreS, "x", "near 1: the core waits on reading");
                if (options.SkipBaseline) continue;

                var (baseS, _, _, baseWs, baseHeap, baseAlloc, basePixels, baseMedian) = Measure(time, () =>
                    NaiveAnalysis.Run(path, settings).Select(r => r.Result).ToList());
                report.Add($"baseline_{label}_wall_s", baseS, "s", $"read all, 1 thread, {basePixels} pixels");
                report.Add($"baseline_{label}_samples_per_s", samples / baseS, "1/s");
                report.Add($"baseline_{label}_peak_working_set_mb", baseWs / 1e6, "MB");
                report.Add($"baseline_{label}_peak_managed_heap_mb", baseHeap / 1e6, "MB");
                report.Add($"baseline_{label}_allocated_mb", baseAlloc / 1e6, "MB");
                report.Add($"baseline_{label}_median_d_cm2_s", baseMedian, "cm^2/s");
                report.Add($"ratio_{label}_speedup", baseS / coreS, "x", "baseline wall / core wall");
                report.Add($"ratio_{label}_peak_working_set", coreWs / (double)baseWs, "x", "core / baseline");
                report.Add($"ratio_{label}_peak_managed_heap", coreHeap / (double)baseHeap, "x", "core / baseline");
            }
            if (files.Count == 2)
            {
                string small = files[0].Label, large = files[1].Label;
                double Value(string metric) => report.Rows.First(r => r.Metric == metric).Value;
                report.Add("ratio_file_size_large_over_small", Value($"file_{large}_mb") / Value($"file_{small}_mb"), "x");
                report.Add("ratio_core_peak_working_set_large_over_small",
                    Value($"core_{large}_peak_working_set_mb") / Value($"core_{small}_peak_working_set_mb"), "x", "streaming: stays near 1");
                report.Add("ratio_core_peak_managed_heap_large_over_small",
                    Value($"core_{large}_peak_managed_heap_mb") / Value($"core_{small}_peak_managed_heap_mb"), "x");
                if (!options.SkipBaseline)
                {
                    report.Add("ratio_baseline_peak_managed_heap_large_over_small",
                        Value($"baseline_{large}_peak_managed_heap_mb") / Value($"baseline_{small}_peak_managed_heap_mb"), "x", "reads everything: follows the file");
                }
            }
            using var self = Process.GetCurrentProcess();
            report.Add("process_peak_working_set_mb", self.PeakWorkingSet64 / 1e6, "MB", "whole run");
            return 0;
        }
        catch (Exception ex) when (ex is Seccm.Maps.DataFileException or AggregateException or IOException or FormatException)
        {
            var message = ex is AggregateException agg ? agg.InnerExceptions[0].Message : ex.Message;
            return BenchVerb.Fail("analyze", message);
        }
        finally
        {
            if (ownedDir is not null)
            {
                try
                {
                    Directory.Delete(ownedDir, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    private static (double Seconds, double CpuSeconds, double JitSeconds, long PeakWorkingSet, long PeakManaged, long Allocated, int Pixels, double MedianD) Measure(
        TimeProvider time, Func<List<PixelResult>> run)
    {
        using var sampler = MemorySampler.Start(time);
        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var jitBefore = System.Runtime.JitInfo.GetCompilationTime();
        var started = Stopwatch.GetTimestamp();
        var results = run();
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        self.Refresh();
        double cpuSeconds = (self.TotalProcessorTime - cpuBefore).TotalSeconds;
        double jitSeconds = (System.Runtime.JitInfo.GetCompilationTime() - jitBefore).TotalSeconds;
        sampler.Stop();
        var median = Seccm.Maps.MapStatistics.Median(results.Select(r => r.DCm2PerS).Where(double.IsFinite));
        return (seconds, cpuSeconds, jitSeconds, sampler.PeakWorkingSetBytes, sampler.PeakManagedBytes, sampler.AllocatedBytes, results.Count, median);
    }

    /// <summary>Data rows (lines after the header), counted before timing so the rate is samples per second.</summary>
    private static long CountRows(string path)
    {
        using var stream = AnalyzeVerb.OpenInput(path);
        var buffer = new byte[1 << 16];
        long lines = 0;
        int read;
        byte last = (byte)'\n';
        while ((read = stream.Read(buffer)) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
            last = buffer[read - 1];
        }
        if (last != (byte)'\n') lines++;
        return Math.Max(0, lines - 1);
    }
}
