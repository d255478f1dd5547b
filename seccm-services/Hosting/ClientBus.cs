using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;

namespace Seccm.Host.Hosting;

/// <summary>A short-lived MQTT connection for command-line clients (<c>seccm scan start</c> ...).</summary>
internal static class ClientBus
{
    public static async Task<MqttBus> ConnectAsync(IConfiguration configuration, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var seccm = new SeccmOptions();
        configuration.Bind(seccm);
        var mqtt = new MqttOptions();
        configuration.GetSection("Mqtt").Bind(mqtt);
        if (string.IsNullOrWhiteSpace(mqtt.Host))
        {
            mqtt.Host = "127.0.0.1";
        }
        if (!Topic.IsValidSegment(seccm.Instrument))
        {
            throw new StartupException($"Instrument '{seccm.Instrument}' is not a valid instrument id.");
        }
        // A unique worker id keeps two terminals from stealing each other's session.
        seccm.WorkerId = $"cli{Environment.ProcessId}";
        // Clients leave no session behind.
        mqtt.SessionExpirySeconds = 0;
        var bus = new MqttBus(ServiceNames.Cli, seccm, mqtt, NullLogger.Instance, TimeProvider.System);
        await bus.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await bus.WaitConnectedAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            await bus.DisposeAsync().ConfigureAwait(false);
            throw new StartupException(ex.Message + " Is `seccm all` (or the broker) running? Use --mqtt-host/--mqtt-port to point elsewhere.");
        }
        return bus;
    }

    /// <summary>
    /// Waits until <paramref name="service"/> of the bus's instrument has announced itself online. A service announces
    /// only once its commands are subscribed; a command sent before that (a host just started, still connecting) is
    /// dropped by the broker and only its reply timeout would tell. A malformed status is waited past.
    /// <paramref name="read"/> sees every status read while waiting, after it was judged. Returns the online status.
    /// </summary>
    public static async Task<ServiceStatus> WaitOnlineAsync(MqttBus bus, string service, TimeSpan timeout, CancellationToken cancellationToken,
        Action<ServiceStatus>? read = null)
    {
        var online = new TaskCompletionSource<ServiceStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        await bus.SubscribeAsync(Topic.Status(bus.Instrument, service), (message, _) =>
        {
            if (message.TryRead<ServiceStatus>(NullLogger.Instance, "waiting for the next status", out var status))
            {
                if (status.State == ServiceStatus.Online)
                {
                    online.TrySetResult(status);
                }
                read?.Invoke(status);
            }
            return Task.CompletedTask;
        }).ConfigureAwait(false);
        try
        {
            return await online.Task.WaitAsync(timeout, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new StartupException($"The {service} service of instrument '{bus.Instrument}' did not come online within {timeout.TotalSeconds:0} s.");
        }
    }
}
