using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Topics;

namespace Seccm.Diffusion.Assembly;

/// <summary>One rate of one pixel, rebuilt from its chunks in sample order.</summary>
internal sealed record RebuiltCurve(
    int RateIndex,
    double ScanRateVPerS,
    string Technique,
    int SamplesPerCycle,
    double[] PotentialV,
    double[] CurrentA,
    int SampleFlagBits = 0)
{
    public int Count => PotentialV.Length;
}

/// <summary>What a chunk did to the assembly.</summary>
internal enum ChunkOutcome
{
    /// <summary>New chunk stored; the pixel still misses chunks.</summary>
    Stored,

    /// <summary>Seen before (QoS 1 redelivery, or a pixel already complete): ignored.</summary>
    Duplicate,

    /// <summary>This chunk completed every rate of its pixel: <see cref="ChunkResult.Curves"/> holds them.</summary>
    PixelComplete,
}

internal readonly record struct ChunkResult(ChunkOutcome Outcome, IReadOnlyList<RebuiltCurve>? Curves = null);

/// <summary>
/// Rebuilds the curves of each pixel from <see cref="CurveChunk"/>s that may arrive twice and in any order; the key of a
/// chunk is (scan, pixel, rate, chunk index) and the first copy wins. A rate is complete when its <c>Last</c> chunk and
/// every chunk before it are here; a pixel when all <c>RateCount</c> rates are. Completed pixels leave memory at once
/// (only their key is kept, so late duplicates are recognised). Not thread-safe: the caller serialises.
/// </summary>
internal sealed class CurveAssembler
{
    /// <summary>Most samples one rate may have (a 100 s hold at 1 ms is 1e5): a guard against a corrupt count, not a limit of physics.</summary>
    internal const long MaxSamplesPerRate = 50_000_000;

    private readonly Dictionary<(string ScanId, int Pixel), PixelAssembly> _pixels = [];
    /// <summary>Completed pixels and the attempt (measurement) that completed them.</summary>
    private readonly Dictionary<(string ScanId, int Pixel), int> _completed = [];

    /// <summary>Pixels with some but not all chunks.</summary>
    public int PixelsInFlight => _pixels.Count;

    /// <summary>Samples held in memory by incomplete pixels.</summary>
    public long SamplesInFlight => _pixels.Values.Sum(p => p.Samples);

    public bool IsComplete(string scanId, int pixel) => _completed.ContainsKey((scanId, pixel));

    /// <summary>Adds a chunk; throws <see cref="ChunkException"/> (naming the field) for a chunk that cannot be used.</summary>
    public ChunkResult Add(CurveChunk chunk, string where)
    {
        Validate(chunk, where);
        var key = (chunk.ScanId, chunk.Pixel);
        if (_completed.TryGetValue(key, out var completedAttempt))
        {
            if (chunk.Attempt <= completedAttempt)
            {
                return new ChunkResult(ChunkOutcome.Duplicate);
            }
            // The pixel was measured again (its curve was flagged): the new measurement replaces the completed one.
            _completed.Remove(key);
        }
        if (!_pixels.TryGetValue(key, out var pixel) || chunk.Attempt > pixel.Attempt)
        {
            pixel = new PixelAssembly(chunk.Technique, chunk.RateCount, chunk.Attempt);
            _pixels[key] = pixel;
        }
        else if (chunk.Attempt < pixel.Attempt)
        {
            return new ChunkResult(ChunkOutcome.Duplicate);
        }
        else if (pixel.RateCount != chunk.RateCount || pixel.Technique != chunk.Technique)
        {
            throw new ChunkException($"{where}: pixel {chunk.Pixel} of scan {chunk.ScanId}: rateCount {chunk.RateCount} / technique '{chunk.Technique}' "
                + $"contradict earlier chunks ({pixel.RateCount} / '{pixel.Technique}')");
        }
        if (!pixel.Add(chunk, where))
        {
            return new ChunkResult(ChunkOutcome.Duplicate);
        }
        if (!pixel.IsComplete)
        {
            return new ChunkResult(ChunkOutcome.Stored);
        }
        _pixels.Remove(key);
        _completed[key] = pixel.Attempt;
        return new ChunkResult(ChunkOutcome.PixelComplete, pixel.Build());
    }

    /// <summary>
    /// Gives up waiting for a pixel: returns its complete rates (possibly none), frees the rest and treats later chunks
    /// of it as duplicates.
    /// </summary>
    public IReadOnlyList<RebuiltCurve> TakeCompleteRates(string scanId, int pixel)
    {
        var key = (scanId, pixel);
        _completed[key] = int.MaxValue;
        return _pixels.Remove(key, out var assembly) ? assembly.BuildCompleteRates() : [];
    }

    /// <summary>Drops everything of a scan (when the scan is evicted).</summary>
    public void ForgetScan(string scanId)
    {
        foreach (var key in _pixels.Keys.Where(k => k.ScanId == scanId).ToList())
        {
            _pixels.Remove(key);
        }
        foreach (var key in _completed.Keys.Where(k => k.ScanId == scanId).ToList())
        {
            _completed.Remove(key);
        }
    }

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
    }

    private sealed class PixelAssembly(string technique, int rateCount, int attempt)
    {
        private readonly RateAssembly?[] _rates = new RateAssembly?[rateCount];

        public int Attempt { get; } = attempt;

        public string Technique { get; } = technique;

        public int RateCount { get; } = rateCount;

        public long Samples => _rates.Sum(r => r?.Samples ?? 0);

        public bool IsComplete => _rates.All(r => r is { IsComplete: true });

        public bool Add(CurveChunk chunk, string where)
        {
            var rate = _rates[chunk.RateIndex] ??= new RateAssembly(chunk.ScanRateVPerS, chunk.SamplesPerCycle);
            return rate.Add(chunk, where);
        }

        public IReadOnlyList<RebuiltCurve> Build() =>
            _rates.Select((r, k) => r!.Build(k, Technique)).ToArray();

        public IReadOnlyList<RebuiltCurve> BuildCompleteRates() =>
            _rates.Select((r, k) => (r, k)).Where(x => x.r is { IsComplete: true }).Select(x => x.r!.Build(x.k, Technique)).ToArray();
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
        public RebuiltCurve Build(int rateIndex, string technique)
        {
            var first = _chunks.Values.First().FirstSampleIndex;
            var end = _chunks.Values.Max(c => c.FirstSampleIndex + c.PotentialV.Length);
            var length = (int)(end - first);
            var potential = new double[length];
            var current = new double[length];
            var filled = 0L;
            foreach (var c in _chunks.Values)
            {
                var at = (int)(c.FirstSampleIndex - first);
                c.PotentialV.CopyTo(potential, at);
                c.CurrentA.CopyTo(current, at);
                filled += c.PotentialV.Length;
            }
            if (filled != length)
            {
                throw new ChunkException($"rate {rateIndex}: the chunks cover {filled} samples but span {length} (firstSampleIndex values overlap or leave gaps)");
            }
            // The device's marks on any chunk's samples (overload, NaN, ...) mark the curve.
            var flags = _chunks.Values.Aggregate(0, (bits, c) => bits | SampleFlagNames.ToBits(c.SampleFlags));
            return new RebuiltCurve(rateIndex, scanRateVPerS, technique, samplesPerCycle, potential, current, flags);
        }
    }
}

/// <summary>A curve chunk that cannot be used; the message says which field and why.</summary>
internal sealed class ChunkException(string message) : Exception(message);
