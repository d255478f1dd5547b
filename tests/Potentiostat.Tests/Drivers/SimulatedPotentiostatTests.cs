using Microsoft.Extensions.Time.Testing;
using Seccm.Electrochemistry.Samples;
using Seccm.Potentiostat.Drivers;

namespace Seccm.Potentiostat.Tests.Drivers;

public sealed class SimulatedPotentiostatTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);
    private static readonly Sample Lto = SampleCatalog.Create("lto", seed: 3);
    private static readonly CvRequest LtoCv = new(1.2, 1.9, 1.2, 0.005, [1.25, 5], 1, 1e-9);

    private static SimulatedPotentiostat Create(PipettePositionTracker position, TimeProvider? time = null, bool realTime = false, int seed = 1) =>
        new(Lto, new PipetteSettings(NoiseRmsA: 0.2e-12), position, time ?? TimeProvider.System,
            new SimulatedPotentiostatOptions(ChunkSize: 100, Seed: seed, RealTime: realTime));

    private static async Task<List<SampleChunk>> CollectAsync(IAsyncEnumerable<SampleChunk> chunks)
    {
        var list = new List<SampleChunk>();
        await foreach (var c in chunks)
        {
            list.Add(c);
        }
        return list;
    }

    [Fact]
    public async Task A_cv_in_contact_shows_the_grain_peak_and_a_dry_pipette_only_noise()
    {
        var position = new PipettePositionTracker { Latest = new PipettePosition(2.5, 2.5, 0) };
        await using var wet = Create(position);
        var chunks = await CollectAsync(wet.RunCvAsync(LtoCv, CancellationToken.None)).WaitAsync(Hang);

        var slow = chunks.Where(c => c.RateIndex == 0).SelectMany(c => c.CurrentA).ToArray();
        var fast = chunks.Where(c => c.RateIndex == 1).SelectMany(c => c.CurrentA).ToArray();
        Assert.Equal(281, slow.Length);
        Assert.InRange(slow.Take(141).Max(), 1.5e-12, 8e-12);
        // Randles-Sevcik: 4x the rate, about 2x the peak (grain D and R_u bend it a little).
        Assert.InRange(fast.Take(141).Max() / slow.Take(141).Max(), 1.7, 2.2);

        position.Latest = new PipettePosition(2.5, 2.5, 5); // retracted 5 um
        await using var dry = Create(position);
        var dryCurrent = (await CollectAsync(dry.RunCvAsync(LtoCv, CancellationToken.None))).SelectMany(c => c.CurrentA).ToArray();
        Assert.True(dryCurrent.Max(Math.Abs) < 1.5e-12, $"dry max {dryCurrent.Max(Math.Abs)} A");
    }

    [Fact]
    public async Task A_hold_jumps_when_the_meniscus_touches()
    {
        var position = new PipettePositionTracker { Latest = new PipettePosition(2.5, 2.5, 2) };
        await using var pstat = Create(position);
        var currents = new List<double>();
        await foreach (var chunk in pstat.RunHoldAsync(new HoldRequest(1.3, 0.01, 2, 1e-9), CancellationToken.None))
        {
            currents.AddRange(chunk.CurrentA);
            if (currents.Count == 50)
            {
                position.Latest = new PipettePosition(2.5, 2.5, 0); // the approach reaches the surface
            }
        }
        Assert.Equal(201, currents.Count);
        Assert.True(currents.Take(50).Max(Math.Abs) < 1.5e-12);
        // 1.3 V is 250 mV cathodic of the LTO couple: a reduction (negative) current from the first wet sample.
        Assert.True(currents[50] < -3e-12, $"first wet sample {currents[50]} A");
        Assert.True(Math.Abs(currents[50]) > Math.Abs(currents[199]), "the transient decays");
    }

    [Fact]
    public async Task A_hold_that_samples_after_several_approach_steps_takes_the_contact_from_the_first_step_that_touched()
    {
        const double MeniscusUm = 0.05;
        var touchUm = (Lto.HeightNm(2.5, 2.5) / 1000) + MeniscusUm;
        var position = new PipettePositionTracker { Latest = new PipettePosition(2.5, 2.5, touchUm + 1) };
        await using var pstat = Create(position);
        var chunks = new List<SampleChunk>();
        // Steps of 0.1 um reported between two samples: the hold sees them only at its next sample, as on a loaded
        // machine; the first one at or below the surface + meniscus is where the meniscus touched.
        double[] steps = [touchUm + 0.25, touchUm + 0.15, touchUm + 0.05, touchUm - 0.05, touchUm - 0.15, touchUm - 0.25];
        var stamp = DateTimeOffset.UnixEpoch;
        await foreach (var chunk in pstat.RunHoldAsync(new HoldRequest(1.3, 0.001, 0.02, 1e-9), CancellationToken.None).WithCancellation(CancellationToken.None))
        {
            chunks.Add(chunk);
            if (chunks.Count == 5)
            {
                foreach (var z in steps)
                {
                    stamp = stamp.AddMilliseconds(20);
                    Assert.True(position.Report(stamp, new PipettePosition(2.5, 2.5, z)));
                }
            }
        }
        Assert.All(chunks.Take(5), c => Assert.Null(c.ContactZUm));
        Assert.True(chunks.Take(5).Max(c => Math.Abs(c.CurrentA[0])) < 1.5e-12);
        var wet = chunks[5];
        Assert.Equal(touchUm - 0.05, wet.ContactZUm!.Value, 9);
        Assert.Equal(touchUm - 0.25, wet.PipetteZUm!.Value, 9);
        // The contact transient starts at the first sample that knows of the contact, not steps later and decayed.
        Assert.True(wet.CurrentA[0] < -3e-12, $"first wet sample {wet.CurrentA[0]} A");
        Assert.All(chunks.Skip(5), c => Assert.Equal(touchUm - 0.05, c.ContactZUm!.Value, 9));
    }

    [Fact]
    public async Task A_hold_that_starts_in_contact_reports_the_contact_at_once_and_a_retract_ends_it()
    {
        var position = new PipettePositionTracker { Latest = new PipettePosition(2.5, 2.5, 0) };
        await using var pstat = Create(position);
        var chunks = new List<SampleChunk>();
        await foreach (var chunk in pstat.RunHoldAsync(new HoldRequest(1.3, 0.001, 0.01, 1e-9), CancellationToken.None))
        {
            chunks.Add(chunk);
            if (chunks.Count == 5)
            {
                position.Latest = new PipettePosition(2.5, 2.5, 3);
            }
        }
        Assert.Equal(0, chunks[0].ContactZUm);
        Assert.True(chunks[0].CurrentA[0] < -3e-12, $"first sample {chunks[0].CurrentA[0]} A");
        Assert.All(chunks.Skip(5), c => Assert.Null(c.ContactZUm));
        Assert.True(chunks.Skip(5).Max(c => Math.Abs(c.CurrentA[0])) < 1.5e-12);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_numbers()
    {
        var position = new PipettePositionTracker { Latest = new PipettePosition(1, 4, 0) };
        await using var a = Create(position, seed: 42);
        await using var b = Create(position, seed: 42);
        var ia = (await CollectAsync(a.RunCvAsync(LtoCv, CancellationToken.None))).SelectMany(c => c.CurrentA).ToArray();
        var ib = (await CollectAsync(b.RunCvAsync(LtoCv, CancellationToken.None))).SelectMany(c => c.CurrentA).ToArray();
        Assert.Equal(ia, ib);
    }

    [Fact]
    public async Task A_hold_until_stopped_ends_with_an_abort()
    {
        await using var pstat = Create(new PipettePositionTracker());
        var samples = 0;
        await Assert.ThrowsAsync<PotentiostatAbortedException>(async () =>
        {
            await foreach (var chunk in pstat.RunHoldAsync(new HoldRequest(1.3, 0.01, null, 1e-9), CancellationToken.None))
            {
                samples += chunk.Count;
                if (samples == 10)
                {
                    await pstat.AbortAsync(CancellationToken.None);
                }
            }
        }).WaitAsync(Hang);
        Assert.Equal(10, samples);
        Assert.False(pstat.CellOn);
    }

    [Fact]
    public async Task Samples_are_paced_by_the_injected_clock()
    {
        var time = new FakeTimeProvider();
        await using var pstat = Create(new PipettePositionTracker(), time, realTime: true);
        await using var samples = pstat.RunHoldAsync(new HoldRequest(1.3, 0.5, 10, 1e-9), CancellationToken.None).GetAsyncEnumerator();

        Assert.True(await samples.MoveNextAsync()); // t = 0 is due at once
        var next = samples.MoveNextAsync().AsTask();
        await Task.Delay(50);
        Assert.False(next.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.True(await next.WaitAsync(Hang));
        Assert.Equal(0.5, samples.Current.TimeS[0]);
    }

    [Fact]
    public void Requests_outside_the_limits_are_refused()
    {
        var pstat = Create(new PipettePositionTracker());
        var ex = Assert.Throws<ArgumentException>(() => pstat.RunHoldAsync(new HoldRequest(12, 0, 1, 1e-9), CancellationToken.None));
        Assert.Contains("potentialV 12", ex.Message, StringComparison.Ordinal);
        Assert.Contains("intervalS 0", ex.Message, StringComparison.Ordinal);
    }
}
