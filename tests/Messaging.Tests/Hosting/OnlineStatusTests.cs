using System.Buffers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MQTTnet;
using MQTTnet.Protocol;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.TestSupport;

namespace Seccm.Messaging.Tests.Hosting;

/// <summary>A hosted service is announced online only when its commands are subscribed (real mosquitto).</summary>
public sealed class OnlineStatusTests
{
    private const string Service = "probe";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Maps <c>echo</c> in its StartAsync, once the bus is connected and the test lets it.</summary>
    private sealed class LateVerbs(IMessageBus bus, Task letGo) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await bus.WaitConnectedAsync(Timeout, cancellationToken);
            await letGo.WaitAsync(cancellationToken);
            await bus.MapCommandAsync<PingCommand, PingCommand>("echo", (command, _) => Task.FromResult(command));
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [Fact]
    public async Task A_client_that_waits_for_online_and_sends_a_command_once_gets_its_reply_even_when_the_verbs_are_mapped_after_the_connection()
    {
        await using var broker = await MosquittoServer.StartAsync();
        var statusTopic = Topic.Status("t1", Service);
        const string markerTopic = "test/marker";

        // A plain MQTT client watches the status; a marker it sends itself after the service's connection comes back
        // after any status the service published before (mosquitto keeps the order of what it forwards to one client).
        using var watcher = new MqttClientFactory().CreateMqttClient();
        var online = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.ApplicationMessageReceivedAsync += e =>
        {
            if (e.ApplicationMessage.Topic == markerTopic)
            {
                marker.TrySetResult();
            }
            else if (SeccmJson.Deserialize<ServiceStatus>(e.ApplicationMessage.Payload.ToArray(), e.ApplicationMessage.Topic).IsOnline)
            {
                online.TrySetResult();
            }
            return Task.CompletedTask;
        };
        await watcher.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
        await watcher.SubscribeAsync(statusTopic, MqttQualityOfServiceLevel.AtLeastOnce);
        await watcher.SubscribeAsync(markerTopic, MqttQualityOfServiceLevel.AtLeastOnce);

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Instrument"] = "t1",
            ["Mqtt:Host"] = "127.0.0.1",
            ["Mqtt:Port"] = broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mqtt:SessionExpirySeconds"] = "0",
        });
        builder.Services.AddLogging();
        builder.AddServiceBus(Service);
        var letGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        builder.Services.AddHostedService(sp => new LateVerbs(sp.GetRequiredKeyedService<IMessageBus>(Service), letGo.Task));
        using var host = builder.Build();
        var bus = host.Services.GetRequiredKeyedService<MqttBus>(Service);
        var starting = host.StartAsync();
        try
        {
            await bus.WaitConnectedAsync(Timeout, CancellationToken.None);
            await watcher.PublishStringAsync(markerTopic, "after the connection", MqttQualityOfServiceLevel.AtLeastOnce);
            await marker.Task.WaitAsync(Timeout);
            Assert.False(online.Task.IsCompleted,
                "the service was announced online before its command verbs were subscribed: a command sent now would be lost");

            letGo.SetResult();
            await online.Task.WaitAsync(Timeout);
            await using var client = BusFactory.Create(broker.Port, ServiceNames.Cli, worker: "client");
            await client.StartAsync(CancellationToken.None);
            await client.WaitConnectedAsync(Timeout, CancellationToken.None);
            var reply = await client.CallAsync<PingCommand, PingCommand>(Service, "echo", new PingCommand("once"), Timeout);
            Assert.Equal("once", reply.Text);
            await starting.WaitAsync(Timeout);
        }
        finally
        {
            letGo.TrySetResult();
            await host.StopAsync();
        }
    }
}
