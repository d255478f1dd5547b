using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Scan;
using Seccm.Host.Verbs;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.TestSupport;

namespace Seccm.Host.Tests.Verbs;

public sealed class ScanClientVerbsTests
{
    private static readonly DateTimeOffset T = DateTimeOffset.UnixEpoch;

    /// <summary>
    /// <c>seccm scan start</c> follows the scan's retained progress over the broker: a progress message that fails its
    /// contract is said with its topic and field and skipped (the old client took it as the scan's state), and the
    /// client still ends on the scan's final progress.
    /// </summary>
    [Fact]
    public async Task Following_a_scan_skips_a_malformed_progress_message_naming_topic_and_field_and_ends_on_the_final_one()
    {
        await using var broker = await MosquittoServer.StartAsync();
        await using var scan = await ConnectAsync(broker.Port, "scan");
        await using var client = await ConnectAsync(broker.Port, "cli");
        var topic = ScanTopics.ProgressTopic("t1");
        await scan.PublishAsync(topic, new ScanProgress("s1", "r", ScanState.Running, 1, 2, 0, -3, null, T, T), retain: true);
        await scan.DrainAsync(TimeSpan.FromSeconds(30));
        using var errors = new StringWriter();
        var writer = TextWriter.Synchronized(errors);

        var following = ScanClientVerbs.FollowAsync(client, "s1", CancellationToken.None, writer);
        await Eventually.TrueAsync(() => errors.ToString().Contains("etaS", StringComparison.Ordinal), "the bad progress message said");
        await scan.PublishAsync(topic, new ScanProgress("s1", "r", ScanState.Completed, 2, 2, 0, null, null, T, T), retain: true);
        var final = await following.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Contains($"{topic}: invalid ScanProgress: etaS", errors.ToString(), StringComparison.Ordinal);
        Assert.Equal(ScanState.Completed, final!.State);
        Assert.Equal(2, final.PixelsDone);
    }

    private static async Task<MqttBus> ConnectAsync(int port, string service)
    {
        var bus = new MqttBus(service, new SeccmOptions { Instrument = "t1" }, new MqttOptions { Host = "127.0.0.1", Port = port },
            NullLogger.Instance, TimeProvider.System);
        await bus.StartAsync(CancellationToken.None);
        await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
        return bus;
    }
}
