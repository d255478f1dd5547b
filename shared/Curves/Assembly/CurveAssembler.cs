using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Topics;

namespace Seccm.Curves.Assembly;

/// <summary>What a chunk did to the assembly.</summary>
public enum ChunkOutcome
{
    /// <summary>New chunk stored; the pixel's latest take still misses chunks (or an older take completed meanwhile).</summary>
    Stored,

    /// <summary>Seen before (QoS 1 redelivery), or of a take already complete or superseded: ignored.</summary>
    Duplicate,

    /// <summary>This chunk completed every rate of the pixel's latest take: <see cref="ChunkResult.Curves"/> holds them.</summary>
    PixelComplete,
}

/// <summary>The outcome of one chunk and, when it completed its pixel, the pixel's curves.</summary>
public readonly record struct ChunkResult(ChunkOutcome Outcome, IReadOnlyList<Curve>? Curves = null);

/// <summary>
/// Rebuilds the curves of each pixel from <see cref="CurveChunk"/>s that may arrive twice and in any order; the key of a
/// chunk is (scan, pixel, take, rate, chunk index) and the first copy wins. A rate is complete when its <c>Last</c> chunk
/// and every chunk before it are here; a take when all <c>RateCount</c> rates are; a pixel when its latest take is. A
/// pixel measured again (a later take) replaces its earlier takes. Completed takes leave memory at once (only their
/// number is kept, so late duplicates are recognised). Not thread-safe: the caller serialises.
/// </summary>
public sealed class CurveAssembler
{
    /// <summary>Most samples one rate may have (a 100 s hold at 1 ms is 1e5): a guard against a corrupt count, not a limit of physics.</summary>
    public const long MaxSamplesPerRate = 50_000_000;

    private readonly Dictionary<(string ScanId, int Pixel), PixelState> _pixels = [];

    /// <summary>Pixels with some but not all chunks of their latest take.</summary>
    public int PixelsInFlight => _pixels.Values.Count(p => p.Open.Count > 0);

    /// <summary>Samples held in memory by incomplete takes.</summary>
    public long SamplesInFlight => _pixels.Values.Sum(p => p.Open.Values.Sum(t => t.Samples));

    /// <summary>
    /// Whether the pixel's latest take is complete, and is at least take <paramref name="take"/> (or the pixel was given up
    /// on): its curves can be read.
    /// </summary>
    public bool IsComplete(string scanId, int pixel, int take = 0) =>
        _pixels.TryGetValue((scanId, pixel), out var p) && (p.GivenUp || (p.NewestComplete is { } c && c == p.NewestTake && c >= take));

    /// <summary>The order of a pixel's measurements: the potentiostat's take (every measurement of the pixel, for whatever reason).</summary>
    private static int Measurement(CurveChunk chunk) => chunk.Take;

    /// <summary>The pixel's latest take seen so far (-1: none).</summary>
    public int LatestTake(string scanId, int pixel) => _pixels.TryGetValue((scanId, pixel), out var p) ? p.NewestTake : -1;

    /// <summary>Adds a chunk; throws <see cref="ChunkException"/> (naming the field) for a chunk that cannot be used.</summary>
    public ChunkResult Add(CurveChunk chunk, string where)
    {
        Validate(chunk, where);
        var key = (chunk.ScanId, chunk.Pixel);
        if (!_pixels.TryGetValue(key, out var pixel))
        {
            _pixels[key] = pixel = new PixelState();
        }
        var measurement = Measurement(chunk);
        if (pixel.GivenUp || measurement <= pixel.NewestComplete)
        {
            return new ChunkResult(ChunkOutcome.Duplicate);
        }
        if (!pixel.Open.TryGetValue(measurement, out var take))
        {
            pixel.Open[measurement] = take = new TakeAssembly(chunk.ScanId, chunk.Pixel, chunk.Take, chunk.Technique, chunk.RateCount);
        }
        if (!take.Add(chunk, where))
        {
            return new ChunkResult(ChunkOutcome.Duplicate);
        }
        pixel.NewestTake = Math.Max(pixel.NewestTake, measurement);
        if (!take.IsComplete)
        {
            return new ChunkResult(ChunkOutcome.Stored);
        }
        pixel.NewestComplete = measurement;
        foreach (var older in pixel.Open.Keys.Where(t => t <= measurement).ToList())
        {
            pixel.Open.Remove(older);
        }
        return measurement == pixel.NewestTake ? new ChunkResult(ChunkOutcome.PixelComplete, take.Build()) : new ChunkResult(ChunkOutcome.Stored);
    }

    /// <summary>
    /// Gives up waiting for a pixel: frees what is held of it and treats later chunks of it as duplicates. Its curves are
    /// then <see cref="Assemble"/> of what was kept of its chunks.
    /// </summary>
    public void GiveUp(string scanId, int pixel)
    {
        if (!_pixels.TryGetValue((scanId, pixel), out var p))
        {
            _pixels[(scanId, pixel)] = p = new PixelState();
        }
        p.GivenUp = true;
        p.Open.Clear();
    }

    /// <summary>
    /// Gives up waiting for a pixel (see <see cref="GiveUp"/>) and returns the complete rates of its latest take held in
    /// memory (possibly none); for a pixel with an earlier complete take, read its chunks and <see cref="Assemble"/> them.
    /// </summary>
    public IReadOnlyList<Curve> TakeCompleteRates(string scanId, int pixel)
    {
        var curves = _pixels.TryGetValue((scanId, pixel), out var p) && p.Open.TryGetValue(p.NewestTake, out var take) ? take.BuildCompleteRates() : [];
        GiveUp(scanId, pixel);
        return curves;
    }

    /// <summary>Drops everything of a scan (when the scan is evicted).</summary>
    public void ForgetScan(string scanId)
    {
        foreach (var key in _pixels.Keys.Where(k => k.ScanId == scanId).ToList())
        {
            _pixels.Remove(key);
        }
    }

    /// <summary>
    /// The curves of one pixel from all the chunks kept of it (any order, duplicates, several takes): its last complete
    /// take, else the complete rates of its latest take (possibly none).
    /// </summary>
    public static IReadOnlyList<Curve> Assemble(IEnumerable<CurveChunk> chunksOfOnePixel, string where)
    {
        var takes = new SortedDictionary<int, TakeAssembly>();
        foreach (var chunk in chunksOfOnePixel)
        {
            Validate(chunk, where);
            if (!takes.TryGetValue(Measurement(chunk), out var take))
            {
                takes[Measurement(chunk)] = take = new TakeAssembly(chunk.ScanId, chunk.Pixel, chunk.Take, chunk.Technique, chunk.RateCount);
            }
            take.Add(chunk, where);
        }
        return takes.Values.LastOrDefault(t => t.IsComplete)?.Build() ?? takes.Values.LastOrDefault()?.BuildCompleteRates() ?? [];
    }

    /// <summary>The curves of every pixel in <paramref name="chunks"/> (of one scan): <see cref="Assemble"/> per pixel, by pixel then rate.</summary>
    public static IReadOnlyList<Curve> AssembleAll(IEnumerable<CurveChunk> chunks, string where) =>
        [.. chunks.GroupBy(c => c.Pixel).OrderBy(g => g.Key).SelectMany(g => Assemble(g, where))];

    private static void Validate(CurveChunk chunk, string where)
    {
        void Require(bool ok, string field, string problem)
        {
            if (!ok)
            {
                throw new ChunkException($"{where}: field {field}: {problem}");
            }
        }
        Require(Topic.IsValidSegment(chunk.ScanId), "scanId", $"'{chunk.ScanId}' is not a valid scan id");
        Require(chunk.Pixel >= 0, "pixel", $"{chunk.Pixel} must be >= 0");
        Require(chunk.Take is >= 0 and < 1000, "take", $"{chunk.Take} must be 0-999");
        Require(!string.IsNullOrWhiteSpace(chunk.Technique), "technique", "is empty");
        Require(chunk.RateCount is >= 1 and <= 100, "rateCount", $"{chunk.RateCount} must be 1-100");
        Require(chunk.RateIndex >= 0 && chunk.RateIndex < chunk.RateCount, "rateIndex", $"{chunk.RateIndex} must be in 0..{chunk.RateCount - 1}");
        Require(double.IsFinite(chunk.ScanRateVPerS) && chunk.ScanRateVPerS >= 0, "scanRateVPerS", $"{chunk.ScanRateVPerS} must be a finite rate >= 0");
        Require(chunk.SamplesPerCycle >= 0, "samplesPerCycle", $"{chunk.SamplesPerCycle} must be >= 0");
        Require(chunk.ChunkIndex >= 0, "chunkIndex", $"{chunk.ChunkIndex} must be >= 0");
        Require(chunk.ChunkCount is null || chunk.ChunkCount > chunk.ChunkIndex, "chunkCount", $"{chunk.ChunkCount} must exceed chunkIndex {chunk.ChunkIndex}");
        Require(!chunk.Last || chunk.ChunkCount is null || chunk.ChunkCount == chunk.ChunkIndex + 1, "chunkCount",
            $"the last chunk has index {chunk.ChunkIndex} but chunkCount {chunk.ChunkCount}");
        Require(chunk.FirstSampleIndex >= 0 && chunk.FirstSampleIndex < MaxSamplesPerRate, "firstSampleIndex", $"{chunk.FirstSampleIndex} is out of range");
        Require(chunk.PotentialV is not null && chunk.CurrentA is not null, "potentialV/currentA", "missing");
        Require(chunk.PotentialV!.Length == chunk.CurrentA!.Length, "currentA", $"{chunk.CurrentA.Length} currents for {chunk.PotentialV.Length} potentials");
        Require(chunk.TimeS is null || chunk.TimeS.Length == 0 || chunk.TimeS.Length == chunk.PotentialV.Length, "timeS",
            $"{chunk.TimeS?.Length} times for {chunk.PotentialV.Length} potentials");
    }

    private sealed class PixelState
    {
        public Dictionary<int, TakeAssembly> Open { get; } = [];

        public int NewestTake { get; set; } = -1;

        public int? NewestComplete { get; set; }

        public bool GivenUp { get; set; }
    }

    private sealed class TakeAssembly(string scanId, int pixel, int take, string technique, int rateCount)
    {
        private readonly RateAssembly?[] _rates = new RateAssembly?[rateCount];

        public long Samples => _rates.Sum(r => r?.Samples ?? 0);

        public bool IsComplete => _rates.All(r => r is { IsComplete: true });

        public bool Add(CurveChunk chunk, string where)
        {
            if (chunk.RateCount != rateCount || chunk.Technique != technique)
            {
                throw new ChunkException($"{where}: pixel {chunk.Pixel} of scan {chunk.ScanId}: rateCount {chunk.RateCount} / technique '{chunk.Technique}' "
                    + $"contradict earlier chunks ({rateCount} / '{technique}')");
            }
            var rate = _rates[chunk.RateIndex] ??= new RateAssembly(chunk.ScanRateVPerS, chunk.SamplesPerCycle);
            return rate.Add(chunk, where);
        }

        public IReadOnlyList<Curve> Build() => [.. _rates.Select((r, k) => r!.Build(scanId, pixel, take, k, technique))];

        public IReadOnlyList<Curve> BuildCompleteRates() =>
            [.. _rates.Select((r, k) => (r, k)).Where(x => x.r is { IsComplete: true }).Select(x => x.r!.Build(scanId, pixel, take, x.k, technique))];
    }

    private sealed class RateAssembly(double scanRateVPerS, int samplesPerCycle)
    {
        private readonly SortedDictionary<int, CurveChunk> _chunks = [];
        private int? _chunkCount;

        public long Samples { get; private set; }

        public bool IsComplete => _chunkCount is { } n && _chunks.Count == n;

        public bool Add(CurveChunk chunk, string where)
        {
            if (_chunks.ContainsKey(chunk.ChunkIndex))
            {
                return false;
            }
            if (chunk.ScanRateVPerS != scanRateVPerS)
            {
                throw new ChunkException($"{where}: field scanRateVPerS: {chunk.ScanRateVPerS} V/s contradicts {scanRateVPerS} V/s of earlier chunks of rate {chunk.RateIndex}");
            }
            if (chunk.Last)
            {
                _chunkCount = chunk.ChunkIndex + 1;
                if (_chunks.Keys.Any(k => k >= _chunkCount))
                {
                    throw new ChunkException($"{where}: field chunkIndex: chunk {chunk.ChunkIndex} is marked last but chunk {_chunks.Keys.Max()} was received");
                }
            }
            else if (_chunkCount is { } n && chunk.ChunkIndex >= n)
            {
                throw new ChunkException($"{where}: field chunkIndex: {chunk.ChunkIndex} is beyond the last chunk {n - 1}");
            }
            if (Samples + chunk.PotentialV.Length > MaxSamplesPerRate)
            {
                throw new ChunkException($"{where}: rate {chunk.RateIndex} exceeds {MaxSamplesPerRate} samples");
            }
            _chunks[chunk.ChunkIndex] = chunk;
            Samples += chunk.PotentialV.Length;
            return true;
        }

        /// <summary>Concatenates the chunks; samples are placed by <c>FirstSampleIndex</c>, so the chunk boundaries need not be regular.</summary>
        public Curve Build(string scanId, int pixel, int take, int rateIndex, string technique)
        {
            var first = _chunks.Values.First().FirstSampleIndex;
            var end = _chunks.Values.Max(c => c.FirstSampleIndex + c.PotentialV.Length);
            var length = (int)(end - first);
            var potential = new double[length];
            var current = new double[length];
            var timed = _chunks.Values.All(c => c.TimeS is { } t && t.Length == c.PotentialV.Length);
            var timeS = timed ? new double[length] : [];
            var filled = 0L;
            foreach (var c in _chunks.Values)
            {
                var at = (int)(c.FirstSampleIndex - first);
                c.PotentialV.CopyTo(potential, at);
                c.CurrentA.CopyTo(current, at);
                if (timed)
                {
                    c.TimeS.CopyTo(timeS, at);
                }
                filled += c.PotentialV.Length;
            }
            if (filled != length)
            {
                throw new ChunkException($"rate {rateIndex}: the chunks cover {filled} samples but span {length} (firstSampleIndex values overlap or leave gaps)");
            }
            // The device's marks on any chunk's samples (overload, NaN, ...) mark the curve.
            var flags = _chunks.Values.Aggregate(0, (bits, c) => bits | SampleFlagNames.ToBits(c.SampleFlags));
            return new Curve(scanId, pixel, take, rateIndex, scanRateVPerS, technique, samplesPerCycle, timeS, potential, current, flags);
        }
    }
}

/// <summary>A curve chunk that cannot be used; the message says which field and why.</summary>
public sealed class ChunkException(string message) : Exception(message);
