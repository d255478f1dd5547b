using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Seccm.Storage.Backends;
using Seccm.Storage.Sink;

namespace Seccm.Storage.Tests.Replay;

[Collection(InfluxdCollection.Name)]
public sealed class TimeSeriesReplayTests(InfluxdFixture influxd)
{
    [Fact]
    public async Task Files_written_over_three_days_load_into_influxd_with_an_exact_count()
    {
        var root = TestPaths.NewTempDirectory("replay-files");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 7, 1, 22, 0, 0, TimeSpan.Zero));
        var options = new StorageOptions { Kind = "files", Directory = root, BufferDirectory = Path.Combine(root, "..", Path.GetFileName(root) + "-buffer"), BatchSize = 1000, MaxPendingPoints = 5000 };
        const int perDay = 7_001;
        await using (var sink = StorageFactory.CreateSink(options, time, NullLogger.Instance))
        {
            for (var day = 0; day < 3; day++)
            {
                for (var i = 0; i < perDay; i++)
                {
                    sink.Write(Points.New(Measurements.Glovebox, "seccm-02", "glovebox", time.GetUtcNow().AddTicks(i))
                        .Field("o2_ppm", 0.5).Field("h2o_ppm", 0.2).Field("index", (long)i));
                }
                await sink.FlushAsync();
                time.Advance(TimeSpan.FromDays(1));
            }
        }
        Assert.Equal(3, Directory.GetDirectories(root).Length);
        // A comment line (what quarantine writes) and a blank line must be skipped, not sent.
        var extra = Path.Combine(root, "2026-07-01", "zz-extra.lp");
        await File.WriteAllTextAsync(extra, "# rejected: something\n\nglovebox,instrument=seccm-02,service=glovebox o2_ppm=9,h2o_ppm=9 1\n");

        var db = InfluxdFixture.NewDatabase("replay");
        var report = await TimeSeriesReplay.ReplayDirectoryAsync(root,
            new StorageOptions { Kind = "influxdb1", Url = influxd.Server.Url.AbsoluteUri, Database = db, BatchSize = 2000 });

        Assert.Empty(report.Errors);
        Assert.Equal(3 * perDay + 1, report.PointsWritten);
        Assert.Equal(3 * perDay + 1, await influxd.Server.CountAsync(db, Measurements.Glovebox, "o2_ppm"));
    }

    [Fact]
    public async Task A_rejected_batch_is_reported_with_file_and_lines_and_the_rest_is_loaded()
    {
        var root = TestPaths.NewTempDirectory("replay-bad");
        var file = Path.Combine(root, "a.lp");
        await File.WriteAllLinesAsync(file, ["m f=1 1", "m f=2 2", "m f=\"text\" 3", "m f=4 4"]);
        var db = InfluxdFixture.NewDatabase("replaybad");
        await using var writer = new InfluxDb1Writer(influxd.Server.Url, db, null, null, TimeSpan.FromSeconds(30));

        var report = await TimeSeriesReplay.ReplayDirectoryAsync(root, writer, 2, TimeProvider.System, NullLogger.Instance, 0,
            TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.Equal(2, report.PointsWritten);
        Assert.Equal(2, report.PointsRejected);
        var error = Assert.Single(report.Errors);
        Assert.Contains($"{file} lines 3-4", error, StringComparison.Ordinal);
        Assert.Contains("field type conflict", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_with_the_files_kind_is_refused_with_the_key_to_change()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TimeSeriesReplay.ReplayDirectoryAsync(".", new StorageOptions { Kind = "files" }));
        Assert.Contains("Storage:Kind", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_directory_is_named()
    {
        var missing = Path.Combine(Path.GetTempPath(), "seccm-no-such-" + Guid.NewGuid().ToString("N"));
        var ex = await Assert.ThrowsAsync<DirectoryNotFoundException>(() =>
            TimeSeriesReplay.ReplayDirectoryAsync(missing, new StorageOptions { Kind = "influxdb1", Url = "http://127.0.0.1:1", Database = "x" }));
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }
}
