using Seccm.Devices;
using Seccm.Devices.Emulators.Glovebox;
using Seccm.Glovebox.Sensors;

namespace Seccm.Glovebox.Tests.Sensors;

public sealed class RelayBoardPumpTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task Switches_the_relay_and_reads_it_back_through_garbage_and_silence()
    {
        await using var pair = await SerialPair.StartAsync();
        await using var board = new RelayBoardEmulator(pair.Device);
        board.Start();
        await using var pump = new RelayBoardPump("pump", pair.Host, 2, Timeout, 2, TimeProvider.System);

        await pump.SetAsync(true, CancellationToken.None);
        Assert.True(board.IsOn(2));
        Assert.True(await pump.ReadAsync(CancellationToken.None));

        board.Faults.GarbledAnswers = 1;
        await pump.SetAsync(false, CancellationToken.None);
        Assert.False(board.IsOn(2));

        board.Faults.Silent = true;
        var ex = await Assert.ThrowsAsync<DeviceTimeoutException>(async () => await pump.SetAsync(true, CancellationToken.None));
        Assert.Contains(pair.HostPort, ex.Message, StringComparison.Ordinal);
        board.Faults.Silent = false;
        await pump.SetAsync(true, CancellationToken.None);
        Assert.True(board.IsOn(2));
    }

    [Fact]
    public async Task A_relay_the_board_does_not_have_is_refused_without_retries()
    {
        await using var pair = await SerialPair.StartAsync();
        await using var board = new RelayBoardEmulator(pair.Device, relayCount: 4);
        board.Start();
        // The board answers (a refusal): a long timeout, so a loaded machine answering late adds no attempt.
        await using var pump = new RelayBoardPump("pump", pair.Host, 7, TimeSpan.FromSeconds(10), 2, TimeProvider.System);

        var ex = await Assert.ThrowsAsync<DeviceException>(async () => await pump.SetAsync(true, CancellationToken.None));
        Assert.Contains("relay 7 out of range", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, board.Requests);
    }
}
