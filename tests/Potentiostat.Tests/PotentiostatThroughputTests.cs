using System.Diagnostics;
using System.Runtime.CompilerServices;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Potentiostat.Drivers;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Potentiostat.Tests;

/// <summary>25 million samples through the service and the broker: none lost, none reordered, memory bounded.</summary>
public sealed class PotentiostatThroughputTests(ITestOutputHelper output)
{
    /// <summary>
    /// A device as fast as memory: sample i of every rate carries i in its current, so a subscriber can check every
    /// sample without keeping any. It produces exactly the sample count of the CV waveform it is given.
    /// </summary>
    private sealed class CountingPotentiostat : IPotentiostat
    {
        public string Name => "counting";

        public PotentiostatLimits Limits { get; } = PotentiostatLimits.MethodScriptDefault with { MaxCycles = 100_000 };

        public Task<string> GetVersionAsync(CancellationToken cancellationToken) => Task.FromResult("counting 1");

        public Task SetCellAsync(bool on, CancellationToken cancellationToken) => Task.CompletedTask;

        public async IAsyncEnumerable<SampleChunk> RunCvAsync(CvRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var perCycle = (long)Math.Round((Math.Abs(request.Vertex1PotentialV - request.StartPotentialV) + Math.Abs(request.Vertex2PotentialV - request.Vertex1PotentialV)
                + Math.Abs(request.StartPotentialV - request.Vertex2PotentialV)) / request.StepV);
            var total = perCycle * request.Cycles + 1;
            for (var r = 0; r < request.ScanRatesVPerS.Count; r++)
            {
                for (long first = 0; first < total; first += 8192)
                {
                    var n = (int)Math.Min(8192, total - first);
                    var t = new double[n];
                    var p = new double[n];
                    var i = new double[n];
                    for (var k = 0; k < n; k++)
                    {
                        t[k] = (first + k) * 1e-4;
                        p[k] = r;
                        i[k] = first + k;
                    }
                    yield return new SampleChunk(r, request.ScanRatesVPerS[r], 0, first, t, p, i);
                    await Task.Yield();
                }
            }
        }

        public IAsyncEnumerable<SampleChunk> RunHoldAsync(HoldRequest request, CancellationToken cancellationToken) =>
            throw new NotSupportedException("the counting device only sweeps");

        public IAsyncEnumerable<SampleChunk> RunChargeDischargeAsync(ChargeDischargeRequest request, CancellationToken cancellationToken) =>
            throw new NotSupportedException("the counting device only sweeps");

        public Task AbortAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Twenty_five_million_samples_arrive_complete_in_order_and_memory_stays_bounded()
    {
        // 10 rates x (125 cycles x 20000 steps + 1) = 25,000,010 samples.
        var cycles = int.TryParse(Environment.GetEnvironmentVariable("SECCM_THROUGHPUT_CYCLES"), out var c) ? c : 125;
        double[] rates = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
        var perRate = 20_000L * cycles + 1;
        var port = FreePort.Next();
        using var host = PotentiostatServiceTests.BuildHost(port, (_, _) => new CountingPotentiostat(), chunkSamples: 5000);
        await host.StartAsync();
        await using var client = await PotentiostatServiceTests.ConnectClientAsync(port);

        var received = new long[rates.Length];
        var nextChunk = new int[rates.Length];
        var lastSeen = new bool[rates.Length];
        string? problem = null;
        await client.SubscribeAsync(Topic.DataFilter("p1"), (m, _) =>
        {
            var chunk = SeccmJson.Deserialize<CurveChunk>(m.Payload.Span, m.Topic);
            var r = chunk.RateIndex;
            if (chunk.ChunkIndex != nextChunk[r] || chunk.FirstSampleIndex != received[r])
            {
                problem ??= $"rate {r}: chunk {chunk.ChunkIndex} from sample {chunk.FirstSampleIndex}, expected chunk {nextChunk[r]} from {received[r]}";
            }
            for (var k = 0; k < chunk.CurrentA.Length; k++)
            {
                if (chunk.CurrentA[k] != chunk.FirstSampleIndex + k)
                {
                    problem ??= $"rate {r} sample {chunk.FirstSampleIndex + k} carries {chunk.CurrentA[k]}";
                }
            }
            received[r] += chunk.CurrentA.Length;
            nextChunk[r]++;
            lastSeen[r] |= chunk.Last;
            return Task.CompletedTask;
        }, capacity: 64);

        long peakManagedBytes = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peakManagedBytes = Math.Max(peakManagedBytes, GC.GetTotalMemory(false));
                await Task.Delay(50);
            }
        });
        var clock = Stopwatch.StartNew();
        var finished = await client.CallAsync<CvCommand, TechniqueFinishedEvent>(ServiceNames.Potentiostat, PotentiostatTopics.CvVerb,
            new CvCommand("bulk", 0, 0, 1, 0, rates, StepV: 1e-4, Cycles: cycles), TimeSpan.FromMinutes(20));
        await Eventually.TrueAsync(() => lastSeen.All(l => l) || problem is not null, "the last chunk of every rate", TimeSpan.FromMinutes(5));
        clock.Stop();
        await sampling.CancelAsync();
        await sampler;

        Assert.Null(problem);
        Assert.Equal(perRate * rates.Length, finished.Samples);
        Assert.All(received, n => Assert.Equal(perRate, n));
        var total = perRate * rates.Length;
        output.WriteLine($"{total:N0} samples in {clock.Elapsed.TotalSeconds:0.0} s ({total / clock.Elapsed.TotalSeconds:N0} samples/s), peak managed heap {peakManagedBytes / 1e6:0} MB");
        // The data (about 1.5 GB as JSON) is far larger than this: only a bounded window of it may be in memory.
        Assert.True(peakManagedBytes < 400e6, $"peak managed heap {peakManagedBytes / 1e6:0} MB");
    }
}
