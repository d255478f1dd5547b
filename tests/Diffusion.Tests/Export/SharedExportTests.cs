using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.TestSupport;

namespace Seccm.Diffusion.Tests.Export;

/// <summary><c>cmd/export</c> with several workers on a real mosquitto: one member of the share group answers it.</summary>
public sealed class SharedExportTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task One_export_command_to_two_workers_is_answered_and_exported_once()
    {
        await using var broker = await MosquittoServer.StartAsync();
        var dir = Directory.CreateTempSubdirectory("seccm-diffusion-export-").FullName;
        var workers = new List<(Microsoft.Extensions.Hosting.IHost Host, DiffusionWorker Worker)>();
        try
        {
            foreach (var id in new[] { "w1", "w2" })
            {
                workers.Add(await DiffusionHosts.StartAsync(broker.Port, dir, id, embeddedBroker: false));
            }
            Assert.All(workers, w => Assert.True(w.Worker.Shared));
            await using var client = await DiffusionHosts.ClientAsync(broker.Port);
            var scan = new SimulatedScan("scan-export", 2);
            var exports = new System.Runtime.CompilerServices.StrongBox<int>();
            var (results, _) = await DiffusionServiceTests.ListenAsync(client, scan.ScanId, exports);
            await client.PublishAsync(DiffusionHosts.ScanEvent("started"), scan.Started, retain: true);
            for (var p = 0; p < scan.Pixels; p++)
            {
                foreach (var c in scan.ChunksOf(p))
                {
                    await client.PublishAsync(Contracts.Potentiostat.PotentiostatTopics.CvDataTopic(DiffusionHosts.Instrument, scan.ScanId), c);
                }
                await client.PublishAsync(DiffusionHosts.ScanEvent("pixel"), scan.DoneEvent(p));
            }
            await Eventually.TrueAsync(() => results.Count == scan.Pixels, "a result for every pixel", Timeout);

            // A plain MQTT 5 requester that sees every reply, not just the first.
            using var requester = new MqttClientFactory().CreateMqttClient();
            await requester.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port)
                .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
            var replyTopic = "test/export-replies";
            var replies = new ConcurrentDictionary<string, ConcurrentBag<CommandReply>>();
            requester.ApplicationMessageReceivedAsync += e =>
            {
                var key = System.Text.Encoding.UTF8.GetString(e.ApplicationMessage.CorrelationData);
                replies.GetOrAdd(key, _ => []).Add(SeccmJson.Deserialize<CommandReply>(e.ApplicationMessage.Payload.ToArray(), e.ApplicationMessage.Topic));
                return Task.CompletedTask;
            };
            await requester.SubscribeAsync(replyTopic, MqttQualityOfServiceLevel.AtLeastOnce);
            int Count(string key) => replies.TryGetValue(key, out var bag) ? bag.Count : 0;
            Task SendAsync(string verb, byte[] command, string key) => requester.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic(Topic.Command(DiffusionHosts.Instrument, ServiceNames.Diffusion, verb))
                .WithPayload(command)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithResponseTopic(replyTopic)
                .WithCorrelationData(System.Text.Encoding.UTF8.GetBytes(key))
                .Build());

            await SendAsync(DiffusionTopics.ExportVerb, SeccmJson.Serialize(new ExportCommand(scan.ScanId)), "export");
            await Eventually.TrueAsync(() => Count("export") >= 1, "a reply to the export", Timeout);
            // Barriers instead of a pause: a ping, answered by every worker through cmd/+, comes after the export in each
            // worker's command queue, so a worker that took the export holds a command slot when its ping reply is here;
            // once no worker runs a command, a second ping's replies come after any export reply a worker queued.
            await SendAsync("ping", SeccmJson.Serialize(new PingCommand("after export")), "ping1");
            await Eventually.TrueAsync(() => Count("ping1") == workers.Count, "a ping reply from every worker", Timeout);
            var buses = workers.Select(w => w.Host.Services.GetRequiredKeyedService<MqttBus>(ServiceNames.Diffusion)).ToList();
            await Eventually.TrueAsync(() => buses.All(b => b.CommandsRunning == 0), "no worker running a command", Timeout);
            await SendAsync("ping", SeccmJson.Serialize(new PingCommand("last")), "ping2");
            await Eventually.TrueAsync(() => Count("ping2") == workers.Count, "a second ping reply from every worker", Timeout);
            await Eventually.TrueAsync(() => exports.Value >= 1, "the exported event", Timeout);

            Assert.Equal(1, Count("export"));
            Assert.True(replies["export"].Single().Ok, replies["export"].Single().Error?.Message);
            Assert.Equal(1, exports.Value);
            // An unknown verb still gets its error reply (from every worker: cmd/+ is plain).
            await SendAsync("nonsense", SeccmJson.Serialize(new PingCommand("x")), "unknown");
            await Eventually.TrueAsync(() => Count("unknown") == workers.Count, "an error reply to an unknown verb from every worker", Timeout);
            Assert.All(replies["unknown"], r => Assert.Equal(ErrorCodes.UnknownCommand, r.Error?.Code));
        }
        finally
        {
            foreach (var (host, _) in workers)
            {
                await DiffusionHosts.StopAsync(host);
            }
            Directory.Delete(dir, recursive: true);
        }
    }
}
