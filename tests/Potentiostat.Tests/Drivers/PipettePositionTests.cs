using Seccm.Potentiostat.Drivers;

namespace Seccm.Potentiostat.Tests.Drivers;

public sealed class PipettePositionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Reports_are_kept_in_order_and_read_from_a_cursor()
    {
        var tracker = new PipettePositionTracker();
        Assert.Null(tracker.Newest);
        Assert.Empty(tracker.Since(0));
        for (var i = 1; i <= 5; i++)
        {
            Assert.True(tracker.Report(T0.AddMilliseconds(i), new PipettePosition(1, 2, 10 - i)));
        }
        Assert.Equal(new ReportedPosition(5, new PipettePosition(1, 2, 5)), tracker.Newest);
        Assert.Equal([7.0, 6.0, 5.0], tracker.Since(2).Select(r => r.Position.ZUm));
        Assert.Equal([3L, 4L, 5L], tracker.Since(2).Select(r => r.Sequence));
        Assert.Empty(tracker.Since(5));
    }

    [Fact]
    public void A_report_stamped_before_the_newest_is_stale_and_dropped()
    {
        var tracker = new PipettePositionTracker();
        Assert.True(tracker.Report(T0.AddMilliseconds(10), new PipettePosition(0, 0, 1)));
        // Periodic telemetry stamped before an end-of-move report but delivered after it.
        Assert.False(tracker.Report(T0.AddMilliseconds(9), new PipettePosition(0, 0, 0)));
        Assert.Equal(1, tracker.Latest!.Value.ZUm);
        Assert.Single(tracker.Since(0));
        // The same stamp is not older: two reports within one clock tick both count.
        Assert.True(tracker.Report(T0.AddMilliseconds(10), new PipettePosition(0, 0, 0.9)));
        Assert.Equal(2, tracker.Since(0).Count);
    }

    [Fact]
    public async Task Waiting_for_a_stage_time_ends_with_the_first_report_stamped_at_or_after_it()
    {
        var tracker = new PipettePositionTracker();
        var reached = tracker.ReachedAsync(T0.AddSeconds(3), CancellationToken.None);
        Assert.True(tracker.Report(T0.AddSeconds(1), new PipettePosition(0, 0, 2)));
        Assert.False(reached.IsCompleted);
        Assert.True(tracker.Report(T0.AddSeconds(3), new PipettePosition(0, 0, 1)));
        Assert.Equal(2, await reached);
        // Already there: at once, with the newest report.
        Assert.Equal(2, await tracker.ReachedAsync(T0.AddSeconds(2), CancellationToken.None));
        using var gone = new CancellationTokenSource();
        var never = tracker.ReachedAsync(T0.AddSeconds(9), gone.Token);
        await gone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => never);
    }

    [Fact]
    public void A_reader_further_behind_than_the_history_gets_the_oldest_kept_reports()
    {
        var tracker = new PipettePositionTracker();
        var n = PipettePositionTracker.HistoryLength + 10;
        for (var i = 1; i <= n; i++)
        {
            tracker.Report(T0.AddTicks(i), new PipettePosition(0, 0, i));
        }
        var kept = tracker.Since(0);
        Assert.Equal(PipettePositionTracker.HistoryLength, kept.Count);
        Assert.Equal(11, kept[0].Sequence);
        Assert.Equal(n, kept[^1].Position.ZUm);
    }
}
