using Microsoft.Extensions.Time.Testing;
using Seccm.Messaging.Hosting;

namespace Seccm.Messaging.Tests.Hosting;

public sealed class ScaledTimeProviderTests
{
    [Fact]
    public void Simulated_time_runs_scale_times_faster_than_its_source()
    {
        var source = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var scaled = new ScaledTimeProvider(source, 100);
        var t0 = scaled.GetTimestamp();
        var now0 = scaled.GetUtcNow();
        source.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(200), scaled.GetElapsedTime(t0));
        Assert.Equal(TimeSpan.FromSeconds(200), scaled.GetUtcNow() - now0);
    }

    [Fact]
    public void Timers_fire_after_the_scaled_real_time()
    {
        var source = new FakeTimeProvider();
        var scaled = new ScaledTimeProvider(source, 50);
        var fired = 0;
        using var timer = scaled.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);
        source.Advance(TimeSpan.FromMilliseconds(199));
        Assert.Equal(0, fired);
        source.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, fired);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_scale_that_is_not_a_positive_number_is_refused(double scale)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ScaledTimeProvider(TimeProvider.System, scale));
        Assert.Contains("Simulation:TimeScale", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_real_time_clock_is_the_source_itself()
    {
        Assert.Same(TimeProvider.System, new SimulationClock(TimeProvider.System, 1).Time);
    }
}
