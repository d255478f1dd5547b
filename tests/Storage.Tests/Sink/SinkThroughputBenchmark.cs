using System.Diagnostics;
using System.Net.Http.Headers;
using Seccm.Storage.Backends;
using Xunit.Abstractions;

namespace Seccm.Storage.Tests.Sink;

/// <summary>
/// Prints throughput and memory numbers; asserts only correctness (exact counts, bounded queue), never time.
/// Short by default; SECCM_BENCH_POINTS, SECCM_BENCH_OUTAGE_S and SECCM_BENCH_RATE make it the full run
/// (e.g. 1000000, 60, 100000).
/// </summary>
[Collection(InfluxdCollection.Name)]
[Trait("Category", "Benchmark")]
public sealed class SinkThroughputBenchmark(InfluxdFixture influxd, ITestOutputHelper output)
{
    private const int BatchSize = 5000;
    private static readonly int MaxPending = Env("SECCM_BENCH_MAX_PENDING", 50_000);

    [Fact]
    public async Task Sink_throughput_against_raw_http_line_protocol()
    {
        var points = Env("SECCM_BENCH_POINTS", 100_000);
        var server = influxd.Server;
        await server.StartAsync();

        // Raw: build the same points, POST batches of BatchSize one after another.
        var rawDb = InfluxdFixture.NewDatabase("rawbench");
        await server.QueryAsync(rawDb, $"CREATE DATABASE \"{rawDb}\"");
        using var http = new HttpClient { BaseAddress = server.Url };
        var raw = Stopwatch.StartNew();
        var batch = new List<string>(BatchSize);
        for (var i = 0; i < points; i++)
        {
            batch.Add(BufferedSinkInfluxdTests.Sample(i).ToLineProtocol());
            if (batch.Count == BatchSize || i == points - 1)
            {
                using var content = new ByteArrayContent(LineProtocolBody.Encode(batch));
                content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
                using var response = await http.PostAsync($"write?db={rawDb}&precision=ns", content);
                Assert.Equal(204, (int)response.StatusCode);
                batch.Clear();
            }
        }
        raw.Stop();

        var sinkDb = InfluxdFixture.NewDatabase("sinkbench");
        var bufferDir = TestPaths.NewTempDirectory("bench-buffer");
        await using var sink = BufferedSinkInfluxdTests.NewSink(server.Url, sinkDb, bufferDir, BatchSize, MaxPending);
        sink.Start();
        var viaSink = Stopwatch.StartNew();
        for (var i = 0; i < points; i++)
        {
            sink.Write(BufferedSinkInfluxdTests.Sample(i));
        }
        var spilled = sink.Status.BufferedSegments;
        await BufferedSinkInfluxdTests.DrainAsync(sink);
        viaSink.Stop();

        Assert.Equal(points, await server.CountAsync(rawDb, Measurements.PotentiostatSample, "current_a"));
        Assert.Equal(points, await server.CountAsync(sinkDb, Measurements.PotentiostatSample, "current_a"));
        var rawRate = points / raw.Elapsed.TotalSeconds;
        var sinkRate = points / viaSink.Elapsed.TotalSeconds;
        output.WriteLine($"BENCH points={points} batch={BatchSize} maxPending={MaxPending} spilledSegments={spilled} raw={rawRate:F0} pts/s sink={sinkRate:F0} pts/s ratio={sinkRate / rawRate:F2}");
    }

    [Fact]
    public async Task Memory_stays_bounded_while_influxd_is_down_and_nothing_is_lost()
    {
        var outageS = Env("SECCM_BENCH_OUTAGE_S", 2);
        var rate = Env("SECCM_BENCH_RATE", 100_000);
        var server = influxd.Server;
        await server.StartAsync();
        var db = InfluxdFixture.NewDatabase("downbench");
        var bufferDir = TestPaths.NewTempDirectory("down-buffer");
        await using var sink = BufferedSinkInfluxdTests.NewSink(server.Url, db, bufferDir, BatchSize);
        sink.Start();
        sink.Write(BufferedSinkInfluxdTests.Sample(0));
        await sink.FlushAsync(); // database exists before the outage

        await server.StopAsync();
        GC.Collect();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long maxManaged = 0;
        long maxWorkingSet = 0;
        var maxPending = 0;
        var written = 1;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < outageS)
        {
            // Pace to the target rate in 10 ms slices.
            var due = (long)(clock.Elapsed.TotalSeconds * rate) + 1;
            while (written < due)
            {
                sink.Write(BufferedSinkInfluxdTests.Sample(written++));
            }
            maxPending = Math.Max(maxPending, sink.Status.PendingPoints);
            maxManaged = Math.Max(maxManaged, GC.GetTotalMemory(false));
            maxWorkingSet = Math.Max(maxWorkingSet, Environment.WorkingSet);
            await Task.Delay(10);
        }
        var buffered = sink.Status;
        await server.StartAsync();
        var replay = Stopwatch.StartNew();
        await BufferedSinkInfluxdTests.DrainAsync(sink);
        replay.Stop();

        Assert.Equal(written, await server.CountAsync(db, Measurements.PotentiostatSample, "current_a"));
        Assert.True(maxPending <= 20_000, $"pending reached {maxPending}");
        output.WriteLine(
            $"BENCH outage={outageS}s rate={rate}/s points={written} maxPending={maxPending} diskBuffer={buffered.BufferedBytes / 1e6:F1} MB in {buffered.BufferedSegments} segments " +
            $"managedHeap: baseline={baseline / 1e6:F1} MB max={maxManaged / 1e6:F1} MB workingSetMax={maxWorkingSet / 1e6:F1} MB replay={written / replay.Elapsed.TotalSeconds:F0} pts/s");
    }

    private static int Env(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) && v > 0 ? v : fallback;
}
