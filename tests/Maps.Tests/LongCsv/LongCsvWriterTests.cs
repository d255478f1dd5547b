using System.Text;
using CsCheck;
using Seccm.Maps.LongCsv;

namespace Seccm.Maps.Tests.LongCsv;

public sealed class LongCsvWriterTests
{
    [Fact]
    public void Writes_header_and_rows_in_invariant_culture()
    {
        var ms = new MemoryStream();
        using (var w = new LongCsvWriter(ms, leaveOpen: true))
        {
            w.Write(3, 4, 1.25, [1.3, 1.5], [3.2e-12, -1e-13]);
        }
        Assert.Equal("pixel_x,pixel_y,scan_rate_v_s,potential_v,current_a\n3,4,1.25,1.3,3.2E-12\n3,4,1.25,1.5,-1E-13\n",
            Encoding.UTF8.GetString(ms.ToArray()));
    }

    [Fact]
    public void Round_trips_random_curves_bit_for_bit()
    {
        var curve = Gen.Select(Gen.Int[0, 127], Gen.Int[0, 127], Gen.Double[1e-4, 1e3], Gen.Int[1, 50])
            .SelectMany((x, y, rate, n) => Gen.Select(Gen.Double[-10, 10].Array[n], Gen.Double.Array[n])
                .Where((_, i) => i.All(double.IsFinite))
                .Select((p, i) => new CvCurve(x, y, rate, p, i)));
        // Distinct keys in sequence: a curve key may appear once only.
        curve.List[1, 8].Where(l => l.Select(c => (c.PixelX, c.PixelY, c.ScanRateVPerS)).Distinct().Count() == l.Count)
            .Sample(curves =>
            {
                var ms = new MemoryStream();
                using (var w = new LongCsvWriter(ms, leaveOpen: true))
                {
                    foreach (var c in curves)
                    {
                        w.Write(c);
                    }
                }
                var back = LongCsvReader.ReadCurves(new MemoryStream(ms.ToArray()), "rt.csv").ToList();
                Assert.Equal(curves.Count, back.Count);
                for (var i = 0; i < curves.Count; i++)
                {
                    Assert.Equal((curves[i].PixelX, curves[i].PixelY, curves[i].ScanRateVPerS), (back[i].PixelX, back[i].PixelY, back[i].ScanRateVPerS));
                    Assert.Equal(curves[i].PotentialV, back[i].PotentialV);
                    Assert.Equal(curves[i].CurrentA, back[i].CurrentA);
                }
            }, iter: 300);
    }

    [Fact]
    public void Refuses_non_finite_values_and_writes_nothing_of_that_curve()
    {
        var ms = new MemoryStream();
        using (var w = new LongCsvWriter(ms, leaveOpen: true))
        {
            var ex = Assert.Throws<ArgumentException>(() => w.Write(1, 2, 1, [1, 2], [1, double.NaN]));
            Assert.Contains("sample 1", ex.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => w.Write(1, 2, 1, [1, 2], [1]));
            Assert.Throws<ArgumentOutOfRangeException>(() => w.Write(1, 2, 0, [1], [1]));
            Assert.Throws<ArgumentOutOfRangeException>(() => w.Write(-1, 2, 1, [1], [1]));
        }
        Assert.Equal(LongCsvFormat.Header + "\n", Encoding.UTF8.GetString(ms.ToArray()));
    }

    [Fact]
    public void WriteFile_leaves_no_file_when_writing_fails()
    {
        using var dir = new TempDir();
        var path = dir.File("cv.csv");
        IEnumerable<CvCurve> Curves()
        {
            yield return new CvCurve(0, 0, 1, [1], [1]);
            throw new InvalidOperationException("simulator died");
        }
        Assert.Throws<InvalidOperationException>(() => LongCsvWriter.WriteFile(path, Curves()));
        Assert.Empty(Directory.GetFiles(dir.Path));
        LongCsvWriter.WriteFile(path, [new CvCurve(0, 0, 1, [1], [2])]);
        Assert.Equal(2, LongCsvReader.ReadCurves(path).Single().CurrentA[0]);
    }
}
