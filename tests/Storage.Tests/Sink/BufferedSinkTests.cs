using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Writes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Seccm.Storage.Backends;
using Seccm.Storage.Sink;

namespace Seccm.Storage.Tests.Sink;

public sealed class BufferedSinkTests : IDisposable
{
    private readonly string _bufferDir = TestPaths.NewTempDirectory("sink-unit");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Points_reach_the_backend_in_write_order_across_an_outage()
    {
        var backend = new RecordingWriter();
        await using var sink = NewSink(backend, batchSize: 10, maxPending: 25);

        for (var i = 0; i < 40; i++)
        {
            sink.Write(Point(i));
        }
        await sink.FlushAsync();
        backend.Down = true;
        for (var i = 40; i < 200; i++)
        {
            sink.Write(Point(i)); // spills to disk every 25 points: memory stays bounded
            Assert.True(sink.Status.PendingPoints <= 25);
        }
        await sink.FlushAsync();
        Assert.True(sink.Status.BufferedSegments > 0);
        backend.Down = false;
        for (var i = 200; i < 230; i++)
        {
            sink.Write(Point(i));
        }
        await sink.FlushAsync();

        Assert.Equal(Enumerable.Range(0, 230).Select(Line), backend.Lines);
        Assert.Equal(0, sink.Status.BufferedSegments);
        Assert.True(backend.Batches.All(b => b <= 10), "a request exceeded the batch size");
    }

    [Fact]
    public async Task A_rejected_batch_is_quarantined_once_and_the_stream_goes_on()
    {
        var backend = new RecordingWriter { RejectContaining = "index=3i" };
        await using var sink = NewSink(backend, batchSize: 5, maxPending: 50);
        for (var i = 0; i < 12; i++)
        {
            sink.Write(Point(i));
        }

        await sink.FlushAsync();
        await sink.FlushAsync();

        Assert.Equal(5, sink.Status.PointsQuarantined);
        Assert.Equal(Enumerable.Range(5, 7).Select(Line), backend.Lines);
        Assert.Equal(1, backend.Rejections);
        var quarantine = Directory.GetFiles(Path.Combine(_bufferDir, "quarantine"));
        var text = System.IO.File.ReadAllText(Assert.Single(quarantine));
        Assert.StartsWith("# rejected: bad data in line 4", text, StringComparison.Ordinal);
        Assert.Contains(Line(3), text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_persists_what_the_backend_did_not_take_and_a_new_sink_sends_it_first()
    {
        var backend = new RecordingWriter { Down = true };
        var first = NewSink(backend, batchSize: 10, maxPending: 100);
        for (var i = 0; i < 35; i++)
        {
            first.Write(Point(i));
        }
        await first.DisposeAsync();
        Assert.Empty(backend.Lines);

        backend.Down = false;
        await using var second = NewSink(backend, batchSize: 10, maxPending: 100);
        second.Write(Point(35));
        await second.FlushAsync();

        Assert.Equal(Enumerable.Range(0, 36).Select(Line), backend.Lines);
    }

    [Fact]
    public async Task Two_live_sinks_on_one_buffer_directory_take_separate_slots()
    {
        await using var a = NewSink(new RecordingWriter(), 10, 100);
        await using var b = NewSink(new RecordingWriter(), 10, 100);

        Assert.NotEqual(a.BufferSlotDirectory, b.BufferSlotDirectory);
    }

    [Fact]
    public async Task A_point_without_fields_is_counted_as_dropped_not_thrown()
    {
        var backend = new RecordingWriter();
        await using var sink = NewSink(backend, 10, 100);

        sink.Write(PointData.Measurement("glovebox").Field("o2_ppm", double.NaN).Timestamp(1L, WritePrecision.Ns));
        await sink.FlushAsync();

        Assert.Equal(1, sink.Status.PointsDropped);
        Assert.Equal(0, sink.Status.PointsWritten);
        Assert.Empty(backend.Lines);
    }

    [Fact]
    public async Task The_flush_loop_sends_a_partial_batch_after_the_interval()
    {
        var backend = new RecordingWriter();
        await using var sink = NewSink(backend, batchSize: 100, maxPending: 1000);
        sink.Start();
        sink.Write(Point(0));
        await TestPaths.WaitUntilAsync(() => Task.FromResult(true), "settle");

        // Advance fake time in small steps until the loop has run; no real waiting on a timer.
        await TestPaths.WaitUntilAsync(() =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            return Task.FromResult(backend.Lines.Count == 1);
        }, "the interval flush");

        Assert.Equal([Line(0)], backend.Lines);
    }

    private BufferedSink NewSink(RecordingWriter backend, int batchSize, int maxPending) => new(
        backend,
        new SinkSettings(batchSize, TimeSpan.FromSeconds(1), maxPending, _bufferDir, 1L << 30, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5)),
        _time,
        NullLogger.Instance);

    private static PointData Point(int i) =>
        Points.New(Measurements.Glovebox, "seccm-01", "glovebox", new DateTimeOffset(2026, 5, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(i))
            .Field("o2_ppm", 0.1 * i).Field("index", (long)i);

    private static string Line(int i) => Point(i).ToLineProtocol();

    public void Dispose()
    {
        try
        {
            Directory.Delete(_bufferDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A backend that records what it stored and can be switched off or made to reject.</summary>
    private sealed class RecordingWriter : ILineProtocolWriter
    {
        private readonly List<string> _lines = [];

        public bool Down { get; set; }
        public string? RejectContaining { get; init; }
        public int Rejections { get; private set; }
        public List<int> Batches { get; } = [];

        public List<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public string Target => "recording writer";

        public Task<WriteOutcome> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
        {
            if (Down)
            {
                return Task.FromResult(WriteOutcome.Retry("down"));
            }
            if (RejectContaining is not null)
            {
                for (var i = 0; i < lines.Count; i++)
                {
                    if (lines[i].Contains(RejectContaining, StringComparison.Ordinal))
                    {
                        Rejections++;
                        return Task.FromResult(WriteOutcome.Reject($"bad data in line {i + 1}"));
                    }
                }
            }
            lock (_lines)
            {
                _lines.AddRange(lines);
                Batches.Add(lines.Count);
            }
            return Task.FromResult(WriteOutcome.Ok);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
