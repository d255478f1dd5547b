using Seccm.Contracts.Messages;

namespace Seccm.Messaging.Commands;

/// <summary>
/// A service's device driver starting in the background while its commands are already answered: a command waits until
/// the driver has started (<see cref="Started"/>), and is answered <c>device_error</c> if it could not
/// (<see cref="FailedAsync"/>). Used by every service whose commands need its device.
/// </summary>
public sealed class DriverReady(string device)
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A command handler that first waits for the driver.</summary>
    public Func<TCommand, CancellationToken, Task<TResult>> Ready<TCommand, TResult>(Func<TCommand, CancellationToken, Task<TResult>> handler) =>
        async (command, cancellationToken) =>
        {
            await _ready.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return await handler(command, cancellationToken).ConfigureAwait(false);
        };

    public void Started() => _ready.TrySetResult();

    /// <summary>The driver could not start: it is disposed and every command, waiting or to come, is refused with the reason.</summary>
    public async Task FailedAsync(IAsyncDisposable? driver, Exception reason)
    {
        if (driver is not null)
        {
            await driver.DisposeAsync().ConfigureAwait(false);
        }
        _ready.TrySetException(new CommandException(ErrorCodes.DeviceError, $"the {device} driver could not start: {reason.Message}"));
    }
}
