using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.TestSupport;

namespace Seccm.Messaging.Tests;

internal static class BusFactory
{
    public static async Task<MqttBus> ConnectAsync(MosquittoServer broker, string service, string instrument = "t1", string? worker = null,
        ILogger? logger = null)
    {
        var bus = Create(broker.Port, service, instrument, worker, logger);
        await bus.StartAsync(CancellationToken.None);
        await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
        return bus;
    }

    public static MqttBus Create(int port, string service, string instrument = "t1", string? worker = null, ILogger? logger = null) =>
        new(service, new SeccmOptions { Instrument = instrument, WorkerId = worker },
            new MqttOptions { Host = "127.0.0.1", Port = port, KeepAliveSeconds = 2 },
            logger ?? NullLogger.Instance, TimeProvider.System);
}
