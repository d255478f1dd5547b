using Polly;
using Polly.Retry;
using Seccm.Devices;
using Seccm.Devices.Serial;

namespace Seccm.Glovebox.Sensors;

/// <summary>
/// The retry policy of the ASCII drivers: a timeout or a garbled answer is retried after dropping whatever
/// the device sent meanwhile; a device that keeps failing ends in the last error, marked with the attempt count.
/// </summary>
internal sealed class SerialRetry
{
    private readonly ResiliencePipeline _pipeline;
    private readonly int _attempts;

    public SerialRetry(ISerialLine line, int retries, TimeSpan delay, TimeProvider time)
    {
        _attempts = retries + 1;
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (retries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<DeviceTimeoutException>().Handle<DeviceProtocolException>(),
                MaxRetryAttempts = retries,
                Delay = delay,
                BackoffType = DelayBackoffType.Constant,
                OnRetry = _ =>
                {
                    line.DiscardInput();
                    return ValueTask.CompletedTask;
                },
            });
        }
        _pipeline = builder.Build();
    }

    public async ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> attempt, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(attempt, cancellationToken).ConfigureAwait(false);
        }
        catch (DeviceTimeoutException ex) when (_attempts > 1)
        {
            throw new DeviceTimeoutException($"{ex.Message} (gave up after {_attempts} attempts)");
        }
        catch (DeviceProtocolException ex) when (_attempts > 1)
        {
            throw new DeviceProtocolException($"{ex.Message} (gave up after {_attempts} attempts)");
        }
    }
}
