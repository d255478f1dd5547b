using Seccm.Curves.Log;
using Seccm.TestSupport;

namespace Seccm.Curves.Tests.Log;

public sealed class CurveLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("seccm-curvelog-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<(double, double[], double[])> Rates(int samples) =>
        [(1.25, [.. Enumerable.Range(0, samples).Select(s => s * 1e-3)], [.. Enumerable.Range(0, samples).Select(s => s * 1e-12)])];

    [Fact]
    public void Takes_survive_a_reopening_and_the_latest_one_is_read_by_itself()
    {
        var path = Path.Combine(_dir, "s.curves");
        var first = CurveChunks.Of("s", 3, Rates(90), 40, take: 0);
        var second = CurveChunks.Of("s", 3, Rates(90), 40, take: 1);
        using (var log = CurveLog.Open(path, "s", writable: true))
        {
            foreach (var c in first.Concat(second))
            {
                log.Append(c);
            }
        }
        using var reader = CurveLog.Open(path, "s", writable: false);
        Assert.Equal(1, reader.LatestTake(3));
        Assert.Null(reader.LatestTake(4));
        Assert.Equal(second.Count, reader.ReadPixel(3).Count);
        Assert.All(reader.ReadPixel(3), c => Assert.Equal(1, c.Take));
        Assert.Equal(first.Count + second.Count, reader.ReadAllOf(3).Count);
        Assert.Equal(second[^1].CurrentA, reader.ReadPixel(3)[^1].CurrentA);
        Assert.Equal(second[^1].TimeS, reader.ReadPixel(3)[^1].TimeS);
    }

    [Fact]
    public void A_torn_last_record_is_ignored_by_a_reader_and_cut_off_by_a_writer()
    {
        var path = Path.Combine(_dir, "t.curves");
        var chunks = CurveChunks.Of("t", 0, Rates(100), 50);
        using (var log = CurveLog.Open(path, "t", writable: true))
        {
            chunks.ForEach(log.Append);
        }
        var whole = new FileInfo(path).Length;
        using (var f = new FileStream(path, FileMode.Open))
        {
            f.SetLength(whole - 7);
        }
        using (var reader = CurveLog.Open(path, "t", writable: false))
        {
            Assert.Single(reader.ReadAll());
            Assert.True(reader.TruncatedBytes > 0);
        }
        Assert.Equal(whole - 7, new FileInfo(path).Length);
        using var writer = CurveLog.Open(path, "t", writable: true);
        Assert.True(writer.TruncatedBytes > 0);
        Assert.True(writer.Bytes < whole - 7);
        writer.Append(chunks[1]);
        Assert.Equal(2, writer.ReadAll().Count());
    }
}
