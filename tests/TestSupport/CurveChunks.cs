using Seccm.Contracts.Potentiostat;

namespace Seccm.TestSupport;

/// <summary>Curve chunks as the potentiostat sends them, for tests of the readers.</summary>
public static class CurveChunks
{
    /// <summary>Chunks of one pixel: rates of known length cut into pieces of <paramref name="chunkSamples"/>.</summary>
    public static List<CurveChunk> Of(string scanId, int pixel, IReadOnlyList<(double Rate, double[] E, double[] I)> rates, int chunkSamples,
        string technique = "cv", int take = 0)
    {
        var chunks = new List<CurveChunk>();
        for (var r = 0; r < rates.Count; r++)
        {
            var (rate, e, i) = rates[r];
            var count = (e.Length + chunkSamples - 1) / chunkSamples;
            for (var k = 0; k < count; k++)
            {
                var from = k * chunkSamples;
                var to = Math.Min(e.Length, from + chunkSamples);
                chunks.Add(new CurveChunk(scanId, pixel, technique, r, rates.Count, rate, e.Length, k, count, k == count - 1, from,
                    DateTimeOffset.UnixEpoch, Enumerable.Range(from, to - from).Select(s => s * 1e-3).ToArray(), e[from..to], i[from..to]) { Take = take });
            }
        }
        return chunks;
    }
}
