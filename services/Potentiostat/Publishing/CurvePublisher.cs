using Seccm.Contracts.Potentiostat;
using Seccm.Potentiostat.Drivers;

namespace Seccm.Potentiostat.Publishing;

/// <summary>
/// Turns driver chunks into <see cref="CurveChunk"/> messages of a fixed size, numbered per rate. One message is held
/// back until the next sample arrives so that the last message of every rate is marked <c>Last</c> and carries the
/// true count. Every message carries the take (which measurement of the pixel this is). Sending waits when too many messages are queued, so memory stays bounded whatever the curve length.
/// </summary>
internal sealed class CurvePublisher(
    Func<CurveChunk, ValueTask> publish,
    string scanId,
    int pixel,
    string technique,
    int rateCount,
    int samplesPerCycle,
    long? expectedSamplesPerRate,
    int messageSamples,
    TimeProvider time,
    int take = 0)
{
    private readonly List<double> _time = new(messageSamples);
    private readonly List<double> _potential = new(messageSamples);
    private readonly List<double> _current = new(messageSamples);
    private CurveChunk? _pending;
    private int _rateIndex = -1;
    private double _rateVPerS;
    private int _chunkIndex;
    private long _first;
    private DateTimeOffset _rateStartUtc;
    private SampleFlags _flags;

    public int MessagesPublished { get; private set; }

    /// <summary>Which measurement of the pixel this is.</summary>
    public int Take => take;

    /// <summary>Every flag any sample of the technique carried so far.</summary>
    public SampleFlags Flags { get; private set; }

    public long SamplesPublished { get; private set; }

    public async ValueTask AddAsync(SampleChunk chunk)
    {
        if (chunk.RateIndex != _rateIndex)
        {
            await EndRateAsync().ConfigureAwait(false);
            _rateIndex = chunk.RateIndex;
            _rateVPerS = chunk.ScanRateVPerS;
            _chunkIndex = 0;
            _first = chunk.FirstSampleIndex;
            // The rate started when its first sample was taken: now minus the age of the newest sample.
            _rateStartUtc = time.GetUtcNow() - TimeSpan.FromSeconds(chunk.TimeS[^1]);
        }
        for (var k = 0; k < chunk.Count; k++)
        {
            if (_time.Count == 0)
            {
                _first = chunk.FirstSampleIndex + k;
            }
            _time.Add(chunk.TimeS[k]);
            _potential.Add(chunk.PotentialV[k]);
            _current.Add(chunk.CurrentA[k]);
            // Flags come per driver chunk: every message holding one of its samples is marked.
            _flags |= chunk.Flags;
            Flags |= chunk.Flags;
            if (_time.Count == messageSamples)
            {
                await SealAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Sends what is left; call once after the technique ended (also after an abort).</summary>
    public ValueTask CompleteAsync() => EndRateAsync();

    private async ValueTask EndRateAsync()
    {
        if (_time.Count > 0)
        {
            await SealAsync().ConfigureAwait(false);
        }
        if (_pending is { } last)
        {
            _pending = null;
            await SendAsync(last with { Last = true, ChunkCount = last.ChunkIndex + 1 }).ConfigureAwait(false);
        }
    }

    /// <summary>Makes the buffered samples the pending message, sending the previous pending one (not the last, then).</summary>
    private async ValueTask SealAsync()
    {
        if (_pending is { } previous)
        {
            await SendAsync(previous).ConfigureAwait(false);
        }
        int? count = expectedSamplesPerRate is { } n ? (int)((n + messageSamples - 1) / messageSamples) : null;
        _pending = new CurveChunk(scanId, pixel, technique, Math.Max(_rateIndex, 0), rateCount, _rateVPerS, samplesPerCycle,
            _chunkIndex++, count, false, _first, _rateStartUtc, [.. _time], [.. _potential], [.. _current], _flags.ToNames()) { Take = take };
        _flags = SampleFlags.None;
        _time.Clear();
        _potential.Clear();
        _current.Clear();
    }

    private async ValueTask SendAsync(CurveChunk chunk)
    {
        await publish(chunk).ConfigureAwait(false);
        MessagesPublished++;
        SamplesPublished += chunk.TimeS.Length;
    }
}
