using Polly;
using Polly.Retry;

namespace Seccm.Devices.Serial;

/// <summary>
/// The one retry policy of every serial driver (GCS stage, Modbus master, the glovebox's ASCII sensors): a timeout or a
/// garbled answer is tried again after a constant delay, with whatever the device sent meanwhile dropped first, so a
/// late answer is never read as the answer to the retry; a device that keeps failing ends in the last error, marked
/// with the attempt count. Anything else (a refusal, a cancellation) is not retried.
/// </summary>
public sealed class SerialRetry
{
    private readonly ResiliencePipeline _pipeline;

    /// <param name="line">The line whose input is dropped before each retry.</param>
    /// <param name="retries">Extra attempts after the first (0: none).</param>
    /// <param name="delay">Pause before each retry.</param>
    /// <param name="time">The clock of the delays.</param>
    public SerialRetry(ISerialLine line, int retries, TimeSpan delay, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retries);
        Attempts = retries + 1;
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (retries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<DeviceTimeoutException>().Handle<DeviceProtocolException>(),
                MaxRetryAttempts = retries,
                Delay = delay,
                BackoffType = DelayBackoffType.Constant,
                UseJitter = false,
                OnRetry = _ =>
                {
                    line.DiscardInput();
                    return ValueTask.CompletedTask;
                },
            });
        }
        _pipeline = builder.Build();
    }

    /// <summary>How many times an operation is tried at most.</summary>
    public int Attempts { get; }

    public async ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> attempt, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(attempt, cancellationToken).ConfigureAwait(false);
        }
        catch (DeviceTimeoutException ex) when (Attempts > 1)
        {
            throw new DeviceTimeoutException($"{ex.Message} (gave up after {Attempts} attempts)");
        }
        catch (DeviceProtocolException ex) when (Attempts > 1)
        {
            throw new DeviceProtocolException($"{ex.Message} (gave up after {Attempts} attempts)");
        }
    }

    public async ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> attempt, CancellationToken cancellationToken) =>
        await ExecuteAsync(async ct =>
        {
            await attempt(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
}
