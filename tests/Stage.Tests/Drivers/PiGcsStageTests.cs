using Microsoft.Extensions.Time.Testing;
using Seccm.Devices;
using Seccm.Devices.Emulators.PiGcs;
using Seccm.Devices.Serial;
using Seccm.Stage.Drivers;
using Seccm.TestSupport;

namespace Seccm.Stage.Tests.Drivers;

/// <summary>The real driver against the controller emulator on the other end of a socat pair.</summary>
public sealed class PiGcsStageTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly FakeTimeProvider _deviceTime = new();
    private SocatPair _pair = null!;
    private PiGcsEmulator _emulator = null!;
    private PiGcsStage _stage = null!;

    public async Task InitializeAsync()
    {
        _pair = await SocatPair.StartAsync();
        _emulator = new PiGcsEmulator(StreamSerialLine.OpenPort(_pair.DevicePort, 115200), _deviceTime).Start();
        _stage = OpenStage(TimeSpan.FromSeconds(3));
    }

    // Generous answer timeouts: a loaded CI machine can take a while to pass bytes through socat. Only the tests that
    // expect a timeout use a short one.
    private PiGcsStage OpenStage(TimeSpan answerTimeout) => PiGcsStage.Open(
        new PiGcsStageOptions { Port = _pair.HostPort, AnswerTimeout = answerTimeout, RetryDelay = TimeSpan.FromMilliseconds(20) },
        TimeProvider.System);

    public async Task DisposeAsync()
    {
        await _stage.DisposeAsync();
        await _emulator.DisposeAsync();
        _pair.Dispose();
    }

    [Fact]
    public async Task Moves_and_reads_the_position_back_while_moving_and_on_target()
    {
        Assert.Contains("PI", await _stage.IdentifyAsync(None), StringComparison.Ordinal);
        await _stage.SetServoAsync(true, None);
        await _stage.SetVelocityAsync(StageAxis.X, 10, None);
        Assert.Equal(10, await _stage.GetVelocityAsync(StageAxis.X, None));
        await _stage.MoveAbsoluteAsync(new StageTarget(XUm: 70.25, ZUm: 55), None);
        Assert.False(await _stage.IsOnTargetAsync(None));
        Assert.Equal(new HashSet<StageAxis> { StageAxis.X, StageAxis.Z }, await _stage.GetMovingAxesAsync(None));

        _deviceTime.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(new StagePosition(60, 50, 55), await _stage.GetPositionAsync(None));

        _deviceTime.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(new StagePosition(70.25, 50, 55), await _stage.GetPositionAsync(None));
        Assert.True(await _stage.IsOnTargetAsync(None));
        Assert.Empty(await _stage.GetMovingAxesAsync(None));

        await _stage.MoveRelativeAsync(new StageTarget(YUm: -0.5), None);
        _deviceTime.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(49.5, (await _stage.GetPositionAsync(None)).YUm);
        Assert.Equal(["SVO 1 1 2 1 3 1", "ERR?"], _emulator.ReceivedCommands.Take(3).Skip(1));
    }

    [Fact]
    public async Task Travel_limits_come_from_TMN_and_TMX_and_absolute_moves_outside_are_refused_before_sending()
    {
        var limits = await _stage.GetLimitsAsync(None);
        Assert.Equal(new StageLimits(new AxisRange(0, 100), new AxisRange(0, 100), new AxisRange(0, 60)), limits);
        await _stage.SetServoAsync(true, None);
        var ex = await Assert.ThrowsAsync<StageCommandException>(() => _stage.MoveAbsoluteAsync(new StageTarget(ZUm: 60.5), None));
        Assert.Contains("Z = 60.5", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_emulator.ReceivedCommands, c => c.StartsWith("MOV", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_relative_move_past_the_limit_is_error_7_and_nothing_moves()
    {
        await _stage.SetServoAsync(true, None);
        var ex = await Assert.ThrowsAsync<GcsException>(() => _stage.MoveRelativeAsync(new StageTarget(XUm: 60), None));
        Assert.Equal(GcsErrors.PositionOutOfLimits, ex.Code);
        Assert.Equal("position out of limits", ex.Meaning);
        Assert.Contains(_pair.HostPort, ex.Message, StringComparison.Ordinal);
        Assert.Contains("MVR 1 60", ex.Message, StringComparison.Ordinal);
        _deviceTime.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(50, _emulator.PositionUm("1"));
    }

    [Fact]
    public async Task A_move_without_servo_is_error_5()
    {
        var ex = await Assert.ThrowsAsync<GcsException>(() => _stage.MoveAbsoluteAsync(new StageTarget(XUm: 10), None));
        Assert.Equal(GcsErrors.MoveWithoutServo, ex.Code);
    }

    [Fact]
    public async Task A_velocity_out_of_range_is_error_8()
    {
        var ex = await Assert.ThrowsAsync<GcsException>(() => _stage.SetVelocityAsync(StageAxis.Z, 1e6, None));
        Assert.Equal(GcsErrors.VelocityOutOfLimits, ex.Code);
    }

    [Fact]
    public async Task An_unknown_axis_id_in_the_configuration_is_error_15()
    {
        await _stage.DisposeAsync();
        _stage = PiGcsStage.Open(new PiGcsStageOptions { Port = _pair.HostPort, AxisZ = "Z", AnswerTimeout = TimeSpan.FromSeconds(3) }, TimeProvider.System);
        var ex = await Assert.ThrowsAsync<GcsException>(() => _stage.SetServoAsync(true, None));
        Assert.Equal(GcsErrors.InvalidAxis, ex.Code);
    }

    [Fact]
    public async Task Stop_mid_move_halts_the_axes_and_clears_the_stopped_error()
    {
        await _stage.SetServoAsync(true, None);
        await _stage.SetVelocityAsync(StageAxis.Z, 5, None);
        await _stage.MoveRelativeAsync(new StageTarget(ZUm: -20), None);
        _deviceTime.Advance(TimeSpan.FromSeconds(1));
        await _stage.StopAsync(None);
        _deviceTime.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(55, (await _stage.GetPositionAsync(None)).ZUm);
        Assert.True(await _stage.IsOnTargetAsync(None));
        await _stage.SetServoAsync(true, None); // the error register is clean again
    }

    [Fact]
    public async Task Ready_status_is_read_from_the_single_byte_answer()
    {
        Assert.True(await _stage.IsReadyAsync(None));
        _emulator.Busy = true;
        Assert.False(await _stage.IsReadyAsync(None));
    }

    [Fact]
    public async Task A_device_that_stops_answering_times_out_with_the_port_and_command_instead_of_hanging()
    {
        await _stage.DisposeAsync();
        _stage = OpenStage(TimeSpan.FromMilliseconds(300));
        _emulator.Silent = true;
        var ex = await Assert.ThrowsAsync<DeviceTimeoutException>(() => _stage.GetPositionAsync(None));
        Assert.Contains(_pair.HostPort, ex.Message, StringComparison.Ordinal);
        Assert.Contains("POS? 1 2 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("attempt 3 of 3", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, _emulator.ReceivedCommands.Count(c => c == "POS? 1 2 3"));

        var command = await Assert.ThrowsAsync<DeviceTimeoutException>(() => _stage.SetServoAsync(true, None));
        Assert.Contains("ERR?", command.Message, StringComparison.Ordinal);

        _emulator.Silent = false; // the device comes back: the next query works again
        Assert.Equal(50, (await _stage.GetPositionAsync(None)).XUm);
    }

    [Fact]
    public async Task A_garbled_answer_is_retried_and_a_persistently_garbled_one_names_port_and_line()
    {
        _emulator.GarbleNextAnswers(1);
        Assert.Equal(new StagePosition(50, 50, 60), await _stage.GetPositionAsync(None));

        _emulator.GarbleNextAnswers(3);
        var ex = await Assert.ThrowsAsync<DeviceProtocolException>(() => _stage.GetPositionAsync(None));
        Assert.Contains(_pair.HostPort, ex.Message, StringComparison.Ordinal);
        Assert.Contains("#!g@rbl~d=?", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_garbled_error_code_is_a_protocol_error_not_a_silent_success()
    {
        _emulator.GarbleNextAnswers(3);
        var ex = await Assert.ThrowsAsync<DeviceProtocolException>(() => _stage.SetServoAsync(true, None));
        Assert.Contains("ERR?", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, _emulator.ReceivedCommands.Count(c => c == "SVO 1 1 2 1 3 1"));
    }

    [Fact]
    public async Task A_move_whose_error_code_came_back_garbled_is_sent_again_and_a_refusal_is_still_seen()
    {
        await _stage.SetServoAsync(true, None);
        await _stage.GetLimitsAsync(None); // read once and kept: the garbled answer below is the move's ERR?
        _emulator.GarbleNextAnswers(1);
        await _stage.MoveAbsoluteAsync(new StageTarget(XUm: 60), None);
        Assert.Equal(2, _emulator.ReceivedCommands.Count(c => c == "MOV 1 60"));
        _deviceTime.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(60, (await _stage.GetPositionAsync(None)).XUm);

        await _stage.SetServoAsync(false, None);
        _emulator.GarbleNextAnswers(1);
        var refused = await Assert.ThrowsAsync<GcsException>(() => _stage.MoveAbsoluteAsync(new StageTarget(XUm: 40), None));
        Assert.Equal(5, refused.Code);
    }

    [Fact]
    public async Task A_relative_move_is_not_sent_twice_when_its_error_code_is_lost()
    {
        await _stage.SetServoAsync(true, None);
        _emulator.GarbleNextAnswers(1);
        await Assert.ThrowsAsync<DeviceProtocolException>(() => _stage.MoveRelativeAsync(new StageTarget(XUm: 1), None));
        Assert.Equal(1, _emulator.ReceivedCommands.Count(c => c == "MVR 1 1"));
    }
}
