using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Storage.Backends;
using Seccm.Storage.Sink;

namespace Seccm.Storage.Tests.Sink;

/// <summary>The sink against a real influxd that goes away and comes back, and a writer process that restarts.</summary>
[Collection(InfluxdCollection.Name)]
public sealed class BufferedSinkInfluxdTests(InfluxdFixture influxd)
{
    private const int TotalPoints = 100_000;
    private static readonly DateTimeOffset T0 = new(2026, 4, 2, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Stopping_influxd_mid_stream_loses_nothing()
    {
        var db = InfluxdFixture.NewDatabase("outage");
        var bufferDir = TestPaths.NewTempDirectory("outage-buffer");
        await using var sink = NewSink(db, bufferDir);
        sink.Start();
        var server = influxd.Server;
        var sawBuffering = false;

        for (var i = 0; i < TotalPoints; i++)
        {
            sink.Write(Sample(i));
            if (i == 30_000)
            {
                await server.StopAsync();
            }
            if (i > 30_000 && sink.Status.BufferedSegments > 0)
            {
                sawBuffering = true;
            }
            if (i == 70_000)
            {
                // Give the loop time to fail at least once while points keep coming.
                await TestPaths.WaitUntilAsync(() => Task.FromResult(sink.Status.BufferedSegments > 0), "points buffered on disk during the outage");
                sawBuffering = true;
                await server.StartAsync();
            }
        }
        await DrainAsync(sink);

        Assert.True(sawBuffering, "the outage never reached the disk buffer");
        Assert.Equal(TotalPoints, await server.CountAsync(db, Measurements.PotentiostatSample, "current_a"));
        var status = sink.Status;
        Assert.Equal(TotalPoints, status.PointsWritten);
        Assert.True(status.PointsDelivered >= TotalPoints, $"delivered {status.PointsDelivered}");
        Assert.Equal(0, status.PointsDropped);
        Assert.Equal(0, status.PointsQuarantined);
    }

    [Fact]
    public async Task A_restarted_writer_replays_its_disk_buffer_first()
    {
        var db = InfluxdFixture.NewDatabase("restart");
        var bufferDir = TestPaths.NewTempDirectory("restart-buffer");
        var server = influxd.Server;

        var first = NewSink(db, bufferDir);
        first.Start();
        for (var i = 0; i < 40_000; i++)
        {
            first.Write(Sample(i));
            if (i == 20_000)
            {
                await server.StopAsync();
            }
        }
        // Graceful shutdown with the database away: everything still in memory goes to the disk buffer.
        await first.DisposeAsync();
        Assert.True(first.Status.BufferedSegments > 0, "nothing was left in the disk buffer");
        await server.StartAsync();

        await using var second = NewSink(db, bufferDir);
        Assert.True(second.Status.BufferedSegments > 0, "the new sink did not find the old buffer");
        second.Start();
        for (var i = 40_000; i < TotalPoints; i++)
        {
            second.Write(Sample(i));
        }
        await DrainAsync(second);

        Assert.Equal(TotalPoints, await server.CountAsync(db, Measurements.PotentiostatSample, "current_a"));
        Assert.Equal(0, first.Status.PointsDropped + second.Status.PointsDropped);
    }

    [Fact]
    public async Task Disposing_mid_stream_while_influxd_is_up_loses_nothing()
    {
        var db = InfluxdFixture.NewDatabase("dispose");
        var bufferDir = TestPaths.NewTempDirectory("dispose-buffer");
        var server = influxd.Server;
        await server.StartAsync();

        var first = NewSink(db, bufferDir);
        first.Start();
        for (var i = 0; i < 55_555; i++)
        {
            first.Write(Sample(i));
        }
        await first.DisposeAsync();

        await using var second = NewSink(db, bufferDir);
        second.Start();
        for (var i = 55_555; i < TotalPoints; i++)
        {
            second.Write(Sample(i));
        }
        await DrainAsync(second);

        Assert.Equal(TotalPoints, await server.CountAsync(db, Measurements.PotentiostatSample, "current_a"));
    }

    private BufferedSink NewSink(string database, string bufferDir) => NewSink(influxd.Server.Url, database, bufferDir);

    internal static BufferedSink NewSink(Uri url, string database, string bufferDir, int batchSize = 5000, int maxPending = 20_000) => new(
        new InfluxDb1Writer(url, database, null, null, TimeSpan.FromSeconds(30)),
        new SinkSettings(batchSize, TimeSpan.FromMilliseconds(200), maxPending, bufferDir, 1L << 30,
            TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(30)),
        TimeProvider.System,
        NullLogger.Instance);

    /// <summary>A distinct timestamp per point: InfluxDB would merge equal ones.</summary>
    internal static InfluxDB.Client.Writes.PointData Sample(int i) =>
        Points.New(Measurements.PotentiostatSample, "seccm-01", "potentiostat", T0.AddTicks(10L * i), scanId: "scan-1", technique: "cv")
            .Field("potential_v", -0.2 + 1e-5 * i)
            .Field("current_a", 1e-9 * Math.Sin(i * 0.001))
            .Field("index", (long)i);

    internal static async Task DrainAsync(BufferedSink sink)
    {
        await TestPaths.WaitUntilAsync(async () =>
        {
            await sink.FlushAsync();
            var s = sink.Status;
            return s.PendingPoints == 0 && s.BufferedSegments == 0;
        }, "sink drained");
    }
}
