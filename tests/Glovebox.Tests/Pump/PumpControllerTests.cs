using Microsoft.Extensions.Time.Testing;
using Seccm.Devices;
using Seccm.Glovebox.Pump;
using Seccm.Glovebox.Sensors;

namespace Seccm.Glovebox.Tests.Pump;

public sealed class PumpControllerTests
{
    /// <summary>A relay whose switch-on can be made to fail, standing for a device that is away.</summary>
    private sealed class FlakyRelay : IPump
    {
        public bool On { get; set; } = true;

        public int FailuresLeft { get; set; }

        public string Name => "relay";

        public ValueTask SetAsync(bool on, CancellationToken cancellationToken)
        {
            if (FailuresLeft > 0)
            {
                FailuresLeft--;
                throw new DeviceTimeoutException("'ttyRelay' did not answer");
            }
            On = on;
            return ValueTask.CompletedTask;
        }

        public ValueTask<bool> ReadAsync(CancellationToken cancellationToken) => ValueTask.FromResult(On);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task The_pump_comes_back_on_after_the_maximum_off_time()
    {
        var time = new FakeTimeProvider();
        var relay = new FlakyRelay();
        await using var controller = new PumpController(relay, new PumpControlOptions(), time);
        var changes = new List<PumpState>();
        controller.Changed += changes.Add;

        await controller.TurnOffAsync("scan 42 imaging", None);
        Assert.False(relay.On);
        time.Advance(TimeSpan.FromMinutes(29) + TimeSpan.FromSeconds(59));
        Assert.False(controller.State.On);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(relay.On);
        Assert.True(controller.State.On);
        Assert.Contains("maximum 30 min", controller.State.Reason, StringComparison.Ordinal);
        Assert.Equal(time.GetUtcNow(), controller.State.Since);
        Assert.Equal([false, true], changes.Select(c => c.On));
    }

    [Theory]
    [InlineData("end", "scan ended")]
    [InlineData("abort", "scan aborted")]
    [InlineData("offline", "scan service offline")]
    [InlineData("alarm", "o2 alarm")]
    public async Task Scan_end_abort_offline_or_an_alarm_turn_it_on_and_cancel_the_timer(string trigger, string reason)
    {
        var time = new FakeTimeProvider();
        var relay = new FlakyRelay();
        await using var controller = new PumpController(relay, new PumpControlOptions(), time);
        var changes = new List<PumpState>();
        controller.Changed += changes.Add;
        await controller.TurnOffAsync("scan", None);
        time.Advance(TimeSpan.FromMinutes(5));

        await (trigger switch
        {
            "end" => controller.OnScanEndedAsync(None),
            "abort" => controller.OnScanAbortedAsync(None),
            "offline" => controller.OnScanServiceOfflineAsync(None),
            _ => controller.OnAlarmAsync("o2", None),
        });
        Assert.True(relay.On);
        Assert.Equal(reason, controller.State.Reason);

        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(2, changes.Count);
    }

    [Fact]
    public async Task A_second_off_request_keeps_the_first_deadline()
    {
        var time = new FakeTimeProvider();
        var relay = new FlakyRelay();
        await using var controller = new PumpController(relay, new PumpControlOptions { MaxOffTime = TimeSpan.FromMinutes(10) }, time);
        await controller.TurnOffAsync("scan", None);
        time.Advance(TimeSpan.FromMinutes(8));
        await controller.TurnOffAsync("scan again", None);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(relay.On);
    }

    [Fact]
    public async Task A_failed_switch_on_is_retried_until_the_relay_answers()
    {
        var time = new FakeTimeProvider();
        var relay = new FlakyRelay();
        await using var controller = new PumpController(relay, new PumpControlOptions(), time);
        await controller.TurnOffAsync("scan", None);
        relay.FailuresLeft = 2;

        var ex = await Assert.ThrowsAsync<DeviceTimeoutException>(() => controller.OnScanEndedAsync(None));
        Assert.Contains("ttyRelay", ex.Message, StringComparison.Ordinal);
        Assert.False(controller.State.On);
        Assert.Contains("scan ended", controller.LastError, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(relay.On);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(relay.On);
        Assert.Equal("scan ended", controller.State.Reason);
        Assert.Null(controller.LastError);
    }

    [Fact]
    public async Task A_pump_found_off_at_start_is_switched_on()
    {
        var time = new FakeTimeProvider();
        var relay = new FlakyRelay { On = false };
        await using var controller = new PumpController(relay, new PumpControlOptions(), time);
        await controller.StartAsync(None);
        Assert.True(relay.On);
        Assert.Equal("was off at service start", controller.State.Reason);
    }

    [Fact]
    public async Task Switching_needs_a_reason()
    {
        await using var controller = new PumpController(new FlakyRelay(), new PumpControlOptions(), new FakeTimeProvider());
        await Assert.ThrowsAsync<ArgumentException>(() => controller.TurnOffAsync(" ", None));
    }
}
