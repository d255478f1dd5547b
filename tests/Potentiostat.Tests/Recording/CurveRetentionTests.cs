using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Seccm.Potentiostat.Recording;

namespace Seccm.Potentiostat.Tests.Recording;

public sealed class CurveRetentionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("seccm-retention-").FullName;
    private readonly DateTimeOffset _now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class Lines : ILogger
    {
        public List<string> Logged { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Logged.Add($"{logLevel}: {formatter(state, exception)}");
    }

    private string File(string scanId, int bytes, double ageDays)
    {
        var path = Path.Combine(_dir, scanId + CurveRecorder.Extension);
        System.IO.File.WriteAllBytes(path, new byte[bytes]);
        System.IO.File.SetLastWriteTimeUtc(path, _now.UtcDateTime - TimeSpan.FromDays(ageDays));
        return path;
    }

    [Fact]
    public void Files_older_than_the_age_go_then_the_oldest_until_the_rest_fits_and_the_scan_being_written_stays()
    {
        var ancient = File("ancient", 1000, 100);
        var old = File("old", 4000, 20);
        var middle = File("middle", 3000, 10);
        var recent = File("recent", 2000, 1);
        var active = File("active", 5000, 30);
        var log = new Lines();
        var retention = new CurveRetention(_dir, new PotentiostatOptions { RawCurveKeepDays = 60, RawCurveMaxGb = 10_000e-9, RawCurveLowFreeGb = 0 },
            new FakeTimeProvider(_now), log);

        var storage = retention.Sweep("active");

        // 1000 B too old; then 4000 + 3000 + 2000 + 5000 = 14000 B > 10000 B: the oldest that is not active goes.
        Assert.False(System.IO.File.Exists(ancient));
        Assert.False(System.IO.File.Exists(old));
        Assert.True(System.IO.File.Exists(middle));
        Assert.True(System.IO.File.Exists(recent));
        Assert.True(System.IO.File.Exists(active));
        Assert.Equal(3, storage.Files);
        Assert.Equal(10_000, storage.Bytes);
        Assert.Equal(2, storage.FilesReclaimed);
        Assert.Equal(5000, storage.BytesReclaimed);
        Assert.False(storage.SpaceLow);
        Assert.Contains(log.Logged, l => l.StartsWith("Information: Raw curves: reclaimed", StringComparison.Ordinal) && l.Contains("2 file(s)"));

        // Nothing more to do: no file goes, no "reclaimed" line.
        log.Logged.Clear();
        var again = retention.Sweep("active");
        Assert.Equal(0, again.FilesReclaimed);
        Assert.DoesNotContain(log.Logged, l => l.Contains("reclaimed", StringComparison.Ordinal));
    }

    [Fact]
    public void Low_free_space_is_said_in_the_status_and_the_log()
    {
        File("a", 10, 1);
        var log = new Lines();
        // More free space than any disk has: always "low".
        var storage = new CurveRetention(_dir, new PotentiostatOptions { RawCurveLowFreeGb = 999_999 }, new FakeTimeProvider(_now), log).Sweep(null);
        Assert.True(storage.SpaceLow);
        Assert.NotNull(storage.FreeBytes);
        Assert.Equal(1, storage.Files);
        Assert.Contains(log.Logged, l => l.StartsWith("Warning: Raw curves: only", StringComparison.Ordinal) && l.Contains("RawCurveKeepDays"));
    }

    [Fact]
    public void The_defaults_keep_90_days_and_50_GB_and_warn_below_5_GB()
    {
        var options = new PotentiostatOptions();
        Assert.Equal(90, options.RawCurveKeepDays);
        Assert.Equal(50, options.RawCurveMaxGb);
        Assert.Equal(5, options.RawCurveLowFreeGb);
    }
}
