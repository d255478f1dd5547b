using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
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
}
