using System.CommandLine;
using System.Globalization;
using Seccm.Electrochemistry.Samples;
using Seccm.Electrochemistry.Simulation;
using Seccm.Maps.LongCsv;
using Seccm.Maps.Tables;

namespace Seccm.Host.Verbs;

/// <summary>
/// <c>seccm simulate --out FILE.csv [--sample lto|lco|lfp|substrate] [--size NX] [--rates 1.25,2.5,5,10,20] [--seed S] [--noise-a RMS]</c>:
/// CVs of an NX x NX raster over the sample, as a long CSV (one row per sample, each CV contiguous, forward sweep first).
/// </summary>
internal static class SimulateVerb
{
    private const double DefaultStepV = 0.001;

    public static Command Create()
    {
        var output = new Option<FileInfo>("--out") { Description = "Long CSV to write (pixel_x,pixel_y,scan_rate_v_s,potential_v,current_a)", Required = true };
        var sample = new Option<string>("--sample") { Description = "lto, lco, lfp or substrate", DefaultValueFactory = _ => "lto" };
        var size = new Option<int>("--size") { Description = "Pixels per side (NX x NX raster over the sample's scan area)", DefaultValueFactory = _ => 8 };
        var rates = new Option<string>("--rates") { Description = "Scan rates in V/s, comma-separated", DefaultValueFactory = _ => "1.25,2.5,5,10,20" };
        var seed = new Option<int>("--seed") { Description = "Seed of grains and noise", DefaultValueFactory = _ => 1 };
        var noise = new Option<double>("--noise-a") { Description = "Current noise rms in A", DefaultValueFactory = _ => 0.1e-12 };
        var command = new Command("simulate", "Write simulated CVs of a sample raster as a long CSV");
        foreach (var o in new Option[] { output, sample, size, rates, seed, noise }) command.Options.Add(o);
        command.SetAction(parse => Run(parse.GetValue(output)!, parse.GetValue(sample)!, parse.GetValue(size),
            parse.GetValue(rates)!, parse.GetValue(seed), parse.GetValue(noise)));
        return command;
    }

    internal static int Run(FileInfo output, string sampleName, int size, string ratesText, int seed, double noiseA)
    {
        Sample sample;
        try
        {
            sample = SampleCatalog.Create(sampleName, seed);
        }
        catch (ArgumentException ex)
        {
            return Fail($"--sample: {ex.Message}");
        }
        if (size is < 1 or > 4096) return Fail($"--size {size}: must be between 1 and 4096 pixels per side");
        if (!(noiseA >= 0) || !double.IsFinite(noiseA)) return Fail($"--noise-a {noiseA}: must be a finite rms current >= 0 A");
        var rates = new List<double>();
        foreach (var part in ratesText.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v > 0) || !double.IsFinite(v))
                return Fail($"--rates: '{part}' is not a positive scan rate in V/s (expected e.g. 1.25,2.5,5)");
            rates.Add(v);
        }
        if (rates.Count == 0) return Fail("--rates: no scan rate given");

        var (start, vertex) = sample.DefaultWindowV;
        double pitchUm = sample.ScanSizeUm / size;
        int pixels = size * size;
        try
        {
            using var file = AtomicFile.Begin(output.FullName);
            using (var writer = new LongCsvWriter(file.Stream, leaveOpen: true))
            {
                // Pixels in batches simulated on all cores, written in raster order: memory stays one batch.
                int batch = Math.Max(8, 4 * Environment.ProcessorCount);
                for (int first = 0; first < pixels; first += batch)
                {
                    int count = Math.Min(batch, pixels - first);
                    var results = new SimulatedCurve[count][];
                    Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, j =>
                    {
                        int p = first + j;
                        int ix = p % size, iy = p / size;
                        var pipette = new PipetteSettings(NoiseRmsA: noiseA);
                        var curves = new SimulatedCurve[rates.Count];
                        for (int r = 0; r < rates.Count; r++)
                        {
                            var electrode = sample.ElectrodeAt((ix + 0.5) * pitchUm, (iy + 0.5) * pitchUm,
                                pipette with { NoiseSeed = CurveSeed(seed, p, r) });
                            curves[r] = CvSimulator.Cv(electrode, new CvProtocol(start, vertex, start, DefaultStepV, rates[r]));
                        }
                        results[j] = curves;
                    });
                    for (int j = 0; j < count; j++)
                    {
                        int p = first + j;
                        for (int r = 0; r < rates.Count; r++)
                            writer.Write(p % size, p / size, rates[r], results[j][r].PotentialV, results[j][r].CurrentA);
                    }
                }
            }
            file.Commit();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Fail($"{output.FullName}: cannot write: {ex.Message}");
        }
        Console.WriteLine($"seccm simulate: {pixels} pixels x {rates.Count} rates of '{sample.Name}' written to {output.FullName}");
        return 0;
    }

    /// <summary>
    /// The noise seed of one curve: a fixed function of the run's seed, the pixel and the rate (SplitMix64's finalizer),
    /// so a seed gives the same file in every process on every machine. HashCode.Combine, used before, is salted per process.
    /// </summary>
    internal static int CurveSeed(int seed, int pixel, int rate)
    {
        unchecked
        {
            ulong z = (((ulong)(uint)seed << 32) | (uint)pixel) * 0x9E3779B97F4A7C15UL + (ulong)rate;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return (int)(z ^ (z >> 31));
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"seccm simulate: {message}");
        return 2;
    }
}
