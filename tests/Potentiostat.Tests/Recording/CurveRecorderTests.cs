using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Serialization;
using Seccm.Curves.Log;
using Seccm.Potentiostat.Recording;

namespace Seccm.Potentiostat.Tests.Recording;

public sealed class CurveRecorderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("seccm-curves-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static CurveChunk Chunk(string scanId, int pixel, int rate, int index, bool last, int samples = 50, double offsetV = 0) =>
        new(scanId, pixel, "cv", rate, 2, 1.25 * (rate + 1), 280, index, last ? index + 1 : null, last, index * samples,
            new DateTimeOffset(2026, 11, 25, 13, 0, 0, TimeSpan.FromHours(1)).AddTicks(pixel * 1234567),
            [.. Enumerable.Range(0, samples).Select(k => (index * samples + k) * 0.001)],
            [.. Enumerable.Range(0, samples).Select(k => offsetV + 1.2 + Math.Sin(k) / 3)],
            [.. Enumerable.Range(0, samples).Select(k => 1e-12 * Math.Cos(k + pixel) + double.Epsilon * k)]);

    private static string Json(CurveChunk chunk) => System.Text.Encoding.UTF8.GetString(SeccmJson.Serialize(chunk));

    [Fact]
    public void Chunks_read_back_serialise_to_the_bytes_that_were_published()
    {
        var written = new List<CurveChunk>();
        using (var recorder = new CurveRecorder(_dir))
        {
            foreach (var pixel in new[] { 0, 1 })
            {
                for (var rate = 0; rate < 2; rate++)
                {
                    for (var i = 0; i < 3; i++)
                    {
                        var chunk = Chunk("scan-a", pixel, rate, i, i == 2) with { Schema = 1 };
                        recorder.Append(chunk);
                        written.Add(chunk);
                    }
                }
            }
        }

        var recorder2 = new CurveRecorder(_dir);
        using var file = recorder2.OpenReader("scan-a")!;
        Assert.Equal([0, 1], file.Pixels);
        var pixel1 = file.ReadPixel(1);
        Assert.Equal(written.Where(c => c.Pixel == 1).Select(Json), pixel1.Select(Json));
        Assert.Empty(file.ReadPixel(2));
        Assert.Null(recorder2.OpenReader("scan-b"));
    }

    [Fact]
    public void A_pixel_measured_again_replays_its_latest_take_only()
    {
        using var recorder = new CurveRecorder(_dir);
        recorder.Append(Chunk("scan-a", 5, 0, 0, false));
        recorder.Append(Chunk("scan-a", 5, 0, 1, true));
        // The scan measured pixel 5 again (its first attempt was disturbed): a new take starts at rate 0, chunk 0.
        var again = new[] { Chunk("scan-a", 5, 0, 0, false, offsetV: 0.1), Chunk("scan-a", 5, 0, 1, true, offsetV: 0.1), Chunk("scan-a", 5, 1, 0, true, offsetV: 0.1) };
        foreach (var c in again)
        {
            recorder.Append(c);
        }

        using var file = recorder.OpenReader("scan-a")!;
        Assert.Equal(again.Select(Json), file.ReadPixel(5).Select(Json));
    }

    [Fact]
    public void A_record_cut_short_by_a_kill_is_ignored_by_a_reader_and_cut_off_by_the_next_writer()
    {
        var path = Path.Combine(_dir, "scan-a" + CurveRecorder.Extension);
        using (var recorder = new CurveRecorder(_dir))
        {
            recorder.Append(Chunk("scan-a", 0, 0, 0, true));
            recorder.Append(Chunk("scan-a", 1, 0, 0, true));
        }
        var whole = new FileInfo(path).Length;
        using (var stream = new FileStream(path, FileMode.Open))
        {
            // The second record loses its tail, as when the process dies mid-write.
            stream.SetLength(whole - 100);
        }

        using (var reader = CurveLog.Open(path, "scan-a", writable: false))
        {
            Assert.Equal([0], reader.Pixels);
            Assert.True(reader.TruncatedBytes > 0);
        }
        using (var recorder = new CurveRecorder(_dir))
        {
            recorder.Append(Chunk("scan-a", 1, 0, 0, true));
            using var file = recorder.OpenReader("scan-a")!;
            Assert.Equal([0, 1], file.Pixels);
            Assert.Equal(0, file.TruncatedBytes);
            Assert.Equal(Json(Chunk("scan-a", 1, 0, 0, true)), Json(Assert.Single(file.ReadPixel(1))));
        }
    }

    [Fact]
    public void Garbage_in_place_of_a_record_ends_the_readable_part_with_no_exception()
    {
        var path = Path.Combine(_dir, "scan-g" + CurveRecorder.Extension);
        using (var recorder = new CurveRecorder(_dir))
        {
            recorder.Append(Chunk("scan-g", 3, 0, 0, true));
        }
        File.AppendAllText(path, "this is not a record of curves at all, but it is long enough to look like one");

        using var reader = CurveLog.Open(path, "scan-g", writable: false);
        Assert.Equal([3], reader.Pixels);
        Assert.Single(reader.ReadPixel(3));
    }
}
