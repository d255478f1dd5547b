using System.Runtime.CompilerServices;
using Seccm.Electrochemistry.Samples;
using Seccm.Electrochemistry.Simulation;

namespace Seccm.Potentiostat.Drivers;

/// <summary>
/// Settings of the simulated potentiostat. <see cref="MeniscusUm"/>: how far above the surface the droplet already
/// touches. <see cref="RealTime"/> false delivers samples as fast as they are computed (tests); true paces them on
/// the injected clock (accelerate it for a demo). <see cref="OpenCircuitNoiseRmsA"/>: what the amplifier reads with
/// a dry pipette.
/// </summary>
internal sealed record SimulatedPotentiostatOptions(
    int ChunkSize = 1024,
    double MeniscusUm = 0.05,
    double OpenCircuitNoiseRmsA = 0.2e-12,
    int Seed = 1,
    bool RealTime = true);

/// <summary>
/// A potentiostat whose cell is the simulated sample under the pipette: the stage position says where the pipette
/// is and whether the meniscus touches (z at or below the surface height + meniscus). Before contact the current is
/// amplifier noise; from contact on it is the simulator's current for the material there. Same seed, same numbers.
/// </summary>
internal sealed class SimulatedPotentiostat(
    Sample sample, PipetteSettings pipette, IPipettePositionSource position, TimeProvider time, SimulatedPotentiostatOptions options)
    : IPotentiostat
{
    /// <summary>A hold's Faradaic transient is simulated for this many samples; later samples continue its last current.</summary>
    private const int HoldTransientSamples = 4000;

    private readonly SemaphoreSlim _busy = new(1, 1);
    private const long MaxHoldBacklogSamples = 50;
    private readonly Random _noise = new(options.Seed);
    private CancellationTokenSource? _abort;
    private int _runs;

    public string Name => $"simulated ({sample.Name})";

    public PotentiostatLimits Limits => PotentiostatLimits.MethodScriptDefault;

    public bool CellOn { get; private set; }

    public Task<string> GetVersionAsync(CancellationToken cancellationToken) => Task.FromResult($"seccm simulated potentiostat, sample {sample.Name}");

    public Task SetCellAsync(bool on, CancellationToken cancellationToken)
    {
        CellOn = on;
        return Task.CompletedTask;
    }

    /// <summary>Whether the meniscus touches the sample now, and where (z null while the position is unknown).</summary>
    public (bool Contact, double XUm, double YUm, double? ZUm) Contact()
    {
        if (position.Newest is not { Position: var p })
        {
            return (false, 0, 0, null);
        }
        return (Touches(p), p.XUm, p.YUm, p.ZUm);
    }

    /// <summary>The meniscus touches at or below the surface height there plus the meniscus.</summary>
    private bool Touches(PipettePosition p) => p.ZUm <= (sample.HeightNm(p.XUm, p.YUm) / 1000) + options.MeniscusUm;

    public IAsyncEnumerable<SampleChunk> RunCvAsync(CvRequest request, CancellationToken cancellationToken)
    {
        PotentiostatLimits.ThrowIfRefused(Limits.Check(request), "CV");
        return RunCvCoreAsync(request, cancellationToken);
    }

    public IAsyncEnumerable<SampleChunk> RunHoldAsync(HoldRequest request, CancellationToken cancellationToken)
    {
        PotentiostatLimits.ThrowIfRefused(Limits.Check(request), "hold");
        return RunHoldCoreAsync(request, cancellationToken);
    }

    public IAsyncEnumerable<SampleChunk> RunChargeDischargeAsync(ChargeDischargeRequest request, CancellationToken cancellationToken)
    {
        PotentiostatLimits.ThrowIfRefused(Limits.Check(request), "charge/discharge");
        return RunChargeDischargeCoreAsync(request, cancellationToken);
    }

    public async Task AbortAsync(CancellationToken cancellationToken)
    {
        if (_abort is { } abort)
        {
            try
            {
                await abort.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // The technique ended while we were asked to stop it: nothing left to abort.
            }
        }
    }

    private async IAsyncEnumerable<SampleChunk> RunCvCoreAsync(CvRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var run = await BeginAsync(cancellationToken).ConfigureAwait(false);
        var token = run.Token;
        for (var r = 0; r < request.ScanRatesVPerS.Count; r++)
        {
            var rate = request.ScanRatesVPerS[r];
            var protocol = new CvProtocol(request.StartPotentialV, request.Vertex1PotentialV, request.Vertex2PotentialV, request.StepV, rate, request.Cycles);
            var curve = CvSimulator.Cv(ElectrodeNow(), protocol);
            var perCycle = Math.Max(1, (curve.Count - 1) / request.Cycles);
            var start = time.GetTimestamp();
            for (var first = 0; first < curve.Count;)
            {
                var cycle = Math.Min(first / perCycle, request.Cycles - 1);
                var cycleEnd = cycle == request.Cycles - 1 ? curve.Count : (cycle + 1) * perCycle;
                var count = Math.Min(options.ChunkSize, cycleEnd - first);
                var chunk = new SampleChunk(r, rate, cycle, first, curve.TimeS[first..(first + count)], curve.PotentialV[first..(first + count)],
                    curve.CurrentA[first..(first + count)]);
                await PaceAsync(start, chunk.TimeS[^1], run, "CV", first + count).ConfigureAwait(false);
                yield return chunk;
                first += count;
            }
        }
    }

    private async IAsyncEnumerable<SampleChunk> RunHoldCoreAsync(HoldRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var run = await BeginAsync(cancellationToken).ConfigureAwait(false);
        var total = request.DurationS is { } d ? (long)Math.Floor(d / request.IntervalS + 1e-9) + 1 : long.MaxValue;
        var start = time.GetTimestamp();
        double[]? transient = null;
        long contactAt = 0;
        var watch = new MeniscusWatch(position, Touches);
        for (long k = 0; k < total; k++)
        {
            if (request.DurationS is null && options.RealTime)
            {
                // An open-ended hold (the approach's contact watch) on an accelerated clock cannot compute every
                // interval in real time; it samples now rather than replaying a backlog, so contact is seen at once.
                var due = (long)(time.GetElapsedTime(start).TotalSeconds / request.IntervalS);
                if (due > k + MaxHoldBacklogSamples)
                {
                    k = due;
                    // Sampling as fast as the CPU allows would starve the rest of the process (the messages that
                    // bring the stage's position and take the contact event out): one sample per half millisecond.
                    try
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(0.5), TimeProvider.System, run.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (run.Abort.IsCancellationRequested)
                    {
                        throw new PotentiostatAbortedException($"The hold on '{Name}' was aborted after {k} sample(s).");
                    }
                }
            }
            var t = k * request.IntervalS;
            await PaceAsync(start, t, run, "hold", k).ConfigureAwait(false);
            var began = watch.Advance();
            double current;
            if (watch.ContactAt is not { } contact)
            {
                transient = null;
                current = options.OpenCircuitNoiseRmsA * Gaussian();
            }
            else
            {
                if (transient is null || began)
                {
                    // The droplet wets a fresh spot that was never polarised (the full Cottrell jump). The spot is
                    // where the meniscus first touched, which a stage still stepping down has passed.
                    var electrode = ElectrodeAt(contact.XUm, contact.YUm);
                    transient = CvSimulator.Hold(electrode,
                        HoldProtocol.OnFreshSpot(electrode, request.PotentialV, HoldTransientSamples * request.IntervalS, request.IntervalS)).CurrentA;
                    contactAt = k;
                }
                // Sample 0 of the transient is the rest state; contact shows from the first sample after it.
                var i = (int)Math.Min(k - contactAt + 1, transient.Length - 1);
                current = transient[i] + options.OpenCircuitNoiseRmsA * Gaussian();
            }
            // Holds deliver every sample at once: the caller watches them for contact within one interval.
            yield return new SampleChunk(0, 0, 0, k, [t], [request.PotentialV], [current], watch.Position?.ZUm, watch.ContactAt?.ZUm);
        }
    }

    private async IAsyncEnumerable<SampleChunk> RunChargeDischargeCoreAsync(ChargeDischargeRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var run = await BeginAsync(cancellationToken).ConfigureAwait(false);
        // The simulator bounds each half-cycle; the device's limit is on the whole technique, applied below.
        var protocol = new GalvanostaticProtocol(Math.Abs(request.ChargeCurrentA), request.LowerCutoffV, request.UpperCutoffV, request.IntervalS,
            request.Cycles, request.MaxDurationS, Math.Abs(request.DischargeCurrentA));
        var result = ChargeDischargeSimulator.Run(ElectrodeNow(), protocol);
        var start = time.GetTimestamp();
        // Sample 0 is the rest point before the current is applied; each half-cycle then restarts its own time at 0.
        var halfStart = 1;
        double halfStartS = 0;
        for (var h = 0; h < 2 * request.Cycles && halfStart < result.TimeS.Length; h++)
        {
            var end = halfStart;
            while (end < result.TimeS.Length && result.HalfCycleIndex[end] == h && result.TimeS[end] <= request.MaxDurationS + 1e-9)
            {
                end++;
            }
            for (var first = halfStart; first < end;)
            {
                var count = Math.Min(options.ChunkSize, end - first);
                var timeS = new double[count];
                for (var k = 0; k < count; k++)
                {
                    timeS[k] = result.TimeS[first + k] - halfStartS;
                }
                var chunk = new SampleChunk(h, 0, h / 2, first - halfStart, timeS, result.PotentialV[first..(first + count)],
                    result.CurrentA[first..(first + count)]);
                await PaceAsync(start, result.TimeS[first + count - 1], run, "charge/discharge", first + count).ConfigureAwait(false);
                yield return chunk;
                first += count;
            }
            if (end < result.TimeS.Length && result.TimeS[end] > request.MaxDurationS + 1e-9)
            {
                yield break;
            }
            halfStartS = result.TimeS[end - 1];
            halfStart = end;
        }
    }

    private Electrode ElectrodeNow()
    {
        var (touching, x, y, _) = Contact();
        return touching ? ElectrodeAt(x, y) : new Electrode([], pipette.AreaCm2, NoiseRmsA: options.OpenCircuitNoiseRmsA, NoiseSeed: NextSeed());
    }

    private Electrode ElectrodeAt(double xUm, double yUm) => sample.ElectrodeAt(xUm, yUm, pipette with { NoiseSeed = NextSeed() });

    /// <summary>A different but reproducible noise sequence for every technique run.</summary>
    private int NextSeed() => unchecked(options.Seed * 1_000_003 + Interlocked.Increment(ref _runs));

    private double Gaussian()
    {
        var u1 = 1.0 - _noise.NextDouble();
        var u2 = _noise.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private async Task<Run> BeginAsync(CancellationToken cancellationToken)
    {
        await _busy.WaitAsync(cancellationToken).ConfigureAwait(false);
        var abort = new CancellationTokenSource();
        _abort = abort;
        CellOn = true;
        return new Run(this, abort, CancellationTokenSource.CreateLinkedTokenSource(abort.Token, cancellationToken));
    }

    private async Task PaceAsync(long start, double dueS, Run run, string technique, long samples)
    {
        if (run.Abort.IsCancellationRequested)
        {
            throw new PotentiostatAbortedException($"The {technique} on '{Name}' was aborted after {samples} sample(s).");
        }
        run.Token.ThrowIfCancellationRequested();
        if (!options.RealTime)
        {
            return;
        }
        var wait = TimeSpan.FromSeconds(dueS) - time.GetElapsedTime(start);
        if (wait <= TimeSpan.Zero)
        {
            // Behind schedule: catch up, but let the rest of the process (the reply, the contact event) run too.
            if (samples % 256 == 0)
            {
                await Task.Yield();
            }
            return;
        }
        try
        {
            await Task.Delay(wait, time, run.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (run.Abort.IsCancellationRequested)
        {
            throw new PotentiostatAbortedException($"The {technique} on '{Name}' was aborted after {samples} sample(s).");
        }
    }

    public async ValueTask DisposeAsync() => await AbortAsync(CancellationToken.None).ConfigureAwait(false);

    /// <summary>
    /// Follows every position the stage reported, in order, from the newest one when the hold starts. The hold samples
    /// more slowly than a stepped approach reports (and a loaded machine delays it further), so judging only the
    /// newest position would find the contact steps below the surface; the first report that touches is where it began.
    /// </summary>
    private sealed class MeniscusWatch
    {
        private readonly IPipettePositionSource _source;
        private readonly Func<PipettePosition, bool> _touches;
        private long _seen;
        private bool _beganUnseen;

        public MeniscusWatch(IPipettePositionSource source, Func<PipettePosition, bool> touches)
        {
            _source = source;
            _touches = touches;
            if (source.Newest is { } newest)
            {
                _seen = newest.Sequence;
                Position = newest.Position;
                ContactAt = touches(newest.Position) ? newest.Position : null;
                _beganUnseen = ContactAt is not null;
            }
        }

        /// <summary>The newest position followed; null while none is known.</summary>
        public PipettePosition? Position { get; private set; }

        /// <summary>Where the meniscus first touched in the current contact; null while the pipette is dry.</summary>
        public PipettePosition? ContactAt { get; private set; }

        /// <summary>Takes in the reports since the last call; true when a new contact began (or one was there at the start).</summary>
        public bool Advance()
        {
            var began = _beganUnseen;
            _beganUnseen = false;
            foreach (var report in _source.Since(_seen))
            {
                _seen = report.Sequence;
                Position = report.Position;
                if (!_touches(report.Position))
                {
                    ContactAt = null;
                    began = false;
                }
                else if (ContactAt is null)
                {
                    ContactAt = report.Position;
                    began = true;
                }
            }
            return began;
        }
    }

    /// <summary>One technique run: holds the device, owns its abort token; disposing switches the cell off.</summary>
    private sealed class Run(SimulatedPotentiostat owner, CancellationTokenSource abort, CancellationTokenSource linked) : IDisposable
    {
        public CancellationTokenSource Abort => abort;

        public CancellationToken Token => linked.Token;

        public void Dispose()
        {
            owner.CellOn = false;
            Interlocked.CompareExchange(ref owner._abort, null, abort);
            linked.Dispose();
            abort.Dispose();
            owner._busy.Release();
        }
    }
}
