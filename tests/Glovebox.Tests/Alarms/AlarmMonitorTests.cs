using Microsoft.Extensions.Time.Testing;
using Seccm.Glovebox.Alarms;

namespace Seccm.Glovebox.Tests.Alarms;

public sealed class AlarmMonitorTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void Noise_around_the_warning_threshold_does_not_flap_the_state()
    {
        var time = new FakeTimeProvider();
        var monitor = new AlarmMonitor("o2", AlarmThresholds.O2Default, time);
        var random = new Random(7);
        var changes = new List<AlarmChange>();
        monitor.Update(1.0);
        for (var i = 0; i < 3600; i++)
        {
            time.Advance(Second);
            if (monitor.Update(5 + (random.NextDouble() - 0.5)) is { } change)
            {
                changes.Add(change);
            }
        }
        Assert.True(changes.Count <= 1, $"{changes.Count} changes: {string.Join("; ", changes)}");
        Assert.All(changes, c => Assert.Equal(AlarmLevel.Warning, c.To));
    }

    [Fact]
    public void Without_hysteresis_and_hold_the_same_noise_would_flap()
    {
        var time = new FakeTimeProvider();
        var monitor = new AlarmMonitor("o2", AlarmThresholds.O2Default with { Hysteresis = 0, HoldTime = TimeSpan.Zero }, time);
        var random = new Random(7);
        var changes = 0;
        monitor.Update(1.0);
        for (var i = 0; i < 3600; i++)
        {
            time.Advance(Second);
            changes += monitor.Update(5 + (random.NextDouble() - 0.5)) is null ? 0 : 1;
        }
        Assert.True(changes > 100, $"only {changes} changes: the flap test above proves nothing");
    }

    [Fact]
    public void A_level_counts_only_after_the_hold_time()
    {
        var time = new FakeTimeProvider();
        var monitor = new AlarmMonitor("o2", AlarmThresholds.O2Default, time);
        Assert.Equal(AlarmLevel.Ok, monitor.Update(1.0)!.To);

        for (var s = 0; s < 10; s++)
        {
            Assert.Null(monitor.Update(12));
            time.Advance(Second);
        }
        var change = monitor.Update(12);
        Assert.NotNull(change);
        Assert.Equal((AlarmLevel.Ok, AlarmLevel.Alarm, 12.0), (change.From, change.To, change.Value!.Value));
        Assert.Equal(time.GetUtcNow(), change.At);
    }

    [Fact]
    public void A_short_spike_is_ignored()
    {
        var time = new FakeTimeProvider();
        var monitor = new AlarmMonitor("o2", AlarmThresholds.O2Default, time);
        monitor.Update(1.0);
        for (var s = 0; s < 5; s++)
        {
            time.Advance(Second);
            Assert.Null(monitor.Update(20));
        }
        time.Advance(Second);
        Assert.Null(monitor.Update(1));
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(monitor.Update(1));
        Assert.Equal(AlarmLevel.Ok, monitor.Level);
    }

    [Fact]
    public void Leaving_a_level_needs_the_value_below_threshold_minus_hysteresis()
    {
        var time = new FakeTimeProvider();
        var monitor = new AlarmMonitor("o2", AlarmThresholds.O2Default, time);
        monitor.Update(15);
        Assert.Equal(AlarmLevel.Alarm, monitor.Level);

        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Null(monitor.Update(9.5));
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Null(monitor.Update(9.5));
        Assert.Equal(AlarmLevel.Alarm, monitor.Level);

        monitor.Update(8.5);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(AlarmLevel.Warning, monitor.Update(8.5)!.To);

        monitor.Update(4.5);
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Null(monitor.Update(4.5));
        Assert.Equal(AlarmLevel.Warning, monitor.Level);
        monitor.Update(3.9);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(AlarmLevel.Ok, monitor.Update(3.9)!.To);
    }

    [Fact]
    public void A_sensor_silent_for_the_stale_time_makes_the_level_unknown()
    {
        var time = new FakeTimeProvider();
        var monitor = new AlarmMonitor("o2", AlarmThresholds.O2Default, time);
        monitor.Update(1);
        time.Advance(TimeSpan.FromSeconds(14));
        Assert.Null(monitor.ReportFailure());
        time.Advance(Second);
        var change = monitor.ReportFailure();
        Assert.Equal((AlarmLevel.Ok, AlarmLevel.Unknown), (change!.From, change.To));
        Assert.Null(monitor.LastValue);
        Assert.Equal(AlarmLevel.Ok, monitor.Update(1)!.To);
    }

    [Fact]
    public void Dew_point_thresholds_follow_the_physics_notes_and_decide_safe_to_scan()
    {
        var time = new FakeTimeProvider();
        var alarms = new GloveboxAlarms(time);
        var changes = new List<AlarmChange>();
        alarms.Changed += changes.Add;
        Assert.False(alarms.SafeToScan);

        alarms.UpdateO2(1);
        alarms.UpdateDewPoint(-75);
        Assert.True(alarms.SafeToScan);

        alarms.UpdateDewPoint(-65);
        time.Advance(TimeSpan.FromSeconds(10));
        alarms.UpdateDewPoint(-65);
        Assert.Equal(AlarmLevel.Warning, alarms.H2o.Level);
        Assert.True(alarms.SafeToScan);

        alarms.UpdateDewPoint(-55);
        time.Advance(TimeSpan.FromSeconds(10));
        alarms.UpdateDewPoint(-55);
        Assert.Equal(AlarmLevel.Alarm, alarms.H2o.Level);
        Assert.False(alarms.SafeToScan);

        Assert.Equal(
            [(GloveboxAlarms.O2Quantity, AlarmLevel.Ok), (GloveboxAlarms.H2oQuantity, AlarmLevel.Ok),
             (GloveboxAlarms.H2oQuantity, AlarmLevel.Warning), (GloveboxAlarms.H2oQuantity, AlarmLevel.Alarm)],
            changes.Select(c => (c.Quantity, c.To)));
    }

    [Fact]
    public void Impossible_thresholds_are_refused_naming_the_quantity()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new AlarmMonitor("o2", AlarmThresholds.O2Default with { AlarmAbove = 3, Hysteresis = -1 }, new FakeTimeProvider()));
        Assert.Contains("o2: AlarmAbove (3) must be above WarningAbove (5)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Hysteresis (-1)", ex.Message, StringComparison.Ordinal);
    }
}
