using Seccm.Contracts.Messages;

namespace Seccm.Messaging.Commands;

/// <summary>
/// A service maps its commands when the host starts, before its devices are open, so that no command sent right after
/// its "online" status is lost: the handlers wait here until the devices are open, or answer with their start-up error.
/// </summary>
public sealed class DeviceGate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The devices are open: waiting commands run.</summary>
    public void Open() => _open.TrySetResult();

    /// <summary>The devices could not be opened: waiting and later commands answer device_error "<paramref name="what"/> could not start: ...".</summary>
    public void Fail(string what, string message) =>
        _open.TrySetException(new CommandException(ErrorCodes.DeviceError, $"{what} could not start: {message}"));

    /// <summary>Closes what was opened before the failure (if anything), then <see cref="Fail"/>s.</summary>
    public async Task FailAsync(IAsyncDisposable? opened, string what, string message)
    {
        if (opened is not null)
        {
            await opened.DisposeAsync().ConfigureAwait(false);
        }
        Fail(what, message);
    }

    /// <summary>The handler, run once the devices are open.</summary>
    public Func<TCommand, CancellationToken, Task<TResult>> Guard<TCommand, TResult>(Func<TCommand, CancellationToken, Task<TResult>> handler) =>
        async (command, cancellationToken) =>
        {
            await _open.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return await handler(command, cancellationToken).ConfigureAwait(false);
        };
}
