using Microsoft.Extensions.Time.Testing;
using Seccm.Storage.Backends;

namespace Seccm.Storage.Tests.Backends;

public sealed class LineProtocolFileWriterTests
{
    [Fact]
    public async Task Starts_a_new_directory_each_UTC_day_and_a_new_file_past_the_size_limit()
    {
        var root = TestPaths.NewTempDirectory("files");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 30, 23, 59, 0, TimeSpan.Zero));
        await using var writer = new LineProtocolFileWriter(root, maxFileBytes: 2048, time);

        Assert.Equal(WriteOutcomeKind.Ok, (await writer.WriteAsync(["m f=1 1", "m f=2 2"], CancellationToken.None)).Kind);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(WriteOutcomeKind.Ok, (await writer.WriteAsync(["m f=3 3"], CancellationToken.None)).Kind);
        var big = Enumerable.Range(0, 100).Select(i => $"m f={i} {100 + i}").ToList(); // ~1.1 kB
        await writer.WriteAsync(big, CancellationToken.None);
        await writer.WriteAsync(big, CancellationToken.None);
        await writer.WriteAsync(big, CancellationToken.None);

        var day1 = Directory.GetFiles(Path.Combine(root, "2026-06-30"));
        var day2 = Directory.GetFiles(Path.Combine(root, "2026-07-01")).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["m f=1 1", "m f=2 2"], File.ReadAllLines(Assert.Single(day1)));
        Assert.Equal(2, day2.Length);
        Assert.Equal(1 + 300, day2.Sum(f => File.ReadAllLines(f).Length));
        Assert.Equal("m f=3 3", File.ReadAllLines(day2[0])[0]);
    }

    [Fact]
    public async Task An_unwritable_directory_means_retry_with_the_path_in_the_message()
    {
        var root = TestPaths.NewTempDirectory("files-bad");
        var blocker = Path.Combine(root, "not-a-dir");
        await File.WriteAllTextAsync(blocker, "x");
        await using var writer = new LineProtocolFileWriter(blocker, 1 << 20, TimeProvider.System);

        var outcome = await writer.WriteAsync(["m f=1 1"], CancellationToken.None);

        Assert.Equal(WriteOutcomeKind.Retry, outcome.Kind);
        Assert.Contains(blocker, outcome.Message, StringComparison.Ordinal);
    }
}
