using System.Globalization;
using BenchmarkDotNet.Attributes;
using Seccm.Maps.LongCsv;

namespace Seccm.Benchmarks;

/// <summary>
/// Reading a long CSV (the interchange format of <c>seccm simulate</c> and <c>seccm analyze</c>): our streaming UTF-8
/// reader against what one writes first (lines as strings, <c>string.Split</c>, <c>double.Parse</c>). A 2 x 2 map of
/// LTO pixels at five rates, held in memory so the disk is not measured.
/// </summary>
[MemoryDiagnoser]
public class ParsingBenchmarks
{
    private byte[] _csv = [];

    [GlobalSetup]
    public void Setup()
    {
        var curves = LtoPixel.Simulate();
        using var stream = new MemoryStream();
        using (var writer = new LongCsvWriter(stream, leaveOpen: true))
        {
            for (int y = 0; y < 2; y++)
            {
                for (int x = 0; x < 2; x++)
                {
                    for (int r = 0; r < curves.Length; r++) writer.Write(x, y, LtoPixel.RatesVPerS[r], curves[r].PotentialV, curves[r].CurrentA);
                }
            }
        }
        _csv = stream.ToArray();
    }

    /// <summary>Baseline: every line a string split at commas and parsed with the framework's parsers. Returns the sum of the currents.</summary>
    [Benchmark(Baseline = true)]
    public double SplitAndParse()
    {
        using var reader = new StreamReader(new MemoryStream(_csv));
        reader.ReadLine();
        double sum = 0;
        while (reader.ReadLine() is { } line)
        {
            var fields = line.Split(',');
            _ = int.Parse(fields[0], CultureInfo.InvariantCulture) + int.Parse(fields[1], CultureInfo.InvariantCulture);
            _ = double.Parse(fields[2], CultureInfo.InvariantCulture) + double.Parse(fields[3], CultureInfo.InvariantCulture);
            sum += double.Parse(fields[4], CultureInfo.InvariantCulture);
        }
        return sum;
    }

    /// <summary><see cref="LongCsvReader"/>, curve by curve as <c>seccm analyze</c> reads. Returns the sum of the currents.</summary>
    [Benchmark]
    public double LongCsvReaderCurves()
    {
        double sum = 0;
        foreach (var curve in LongCsvReader.ReadCurves(new MemoryStream(_csv), "bench.csv"))
        {
            foreach (var i in curve.CurrentA) sum += i;
        }
        return sum;
    }
}
