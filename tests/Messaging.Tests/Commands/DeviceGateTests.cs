using Seccm.Contracts.Messages;
using Seccm.Messaging.Commands;

namespace Seccm.Messaging.Tests.Commands;

public sealed class DeviceGateTests
{
    [Fact]
    public async Task A_guarded_command_runs_once_the_devices_are_open_and_not_before()
    {
        var gate = new DeviceGate();
        var ran = 0;
        var handler = gate.Guard<int, int>((n, _) =>
        {
            Interlocked.Increment(ref ran);
            return Task.FromResult(n * 2);
        });
        var waiting = handler(21, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(0, Volatile.Read(ref ran));

        gate.Open();

        Assert.Equal(42, await waiting);
        Assert.Equal(4, await handler(2, CancellationToken.None));
    }

    [Fact]
    public async Task Devices_that_could_not_open_answer_every_command_with_their_error()
    {
        var gate = new DeviceGate();
        var handler = gate.Guard<int, int>((_, _) => throw new InvalidOperationException("must not run"));
        var waiting = handler(1, CancellationToken.None);

        gate.Fail("the stage driver", "no answer on /dev/ttyUSB0");

        foreach (var call in new[] { waiting, handler(2, CancellationToken.None) })
        {
            var error = await Assert.ThrowsAsync<CommandException>(() => call);
            Assert.Equal(ErrorCodes.DeviceError, error.Code);
            Assert.Equal("the stage driver could not start: no answer on /dev/ttyUSB0", error.Message);
        }
    }
}
