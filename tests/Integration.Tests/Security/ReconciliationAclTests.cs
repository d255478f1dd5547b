using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Messaging.Hosting;
using Seccm.TestSupport;

namespace Seccm.Integration.Tests.Security;

/// <summary>
/// The diffusion user's rights for the reconciliation after a broker lost messages (the ACL deploy/mosquitto/facility.sh
/// writes, on a real mosquitto): it may ask the scan for its recorded pixels and the potentiostat for a replay, and nothing else of theirs;
/// its workers read each other's retained results.
/// </summary>
public sealed class ReconciliationAclTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_diffusion_user_gets_replies_to_cmd_pixels_and_cmd_replay_but_cannot_start_a_cv()
    {
        const string instrument = "aclr1";
        await using var broker = await SecuredBroker.StartAsync(instrument);
        await using var potentiostat = await BusAsync(broker, ServiceNames.Potentiostat, instrument);
        await using var scan = await BusAsync(broker, ServiceNames.Scan, instrument);
        await using var diffusion = await BusAsync(broker, ServiceNames.Diffusion, instrument);
        var cvs = 0;
        await potentiostat.MapCommandAsync<ReplayCommand, ReplayResult>(PotentiostatTopics.ReplayVerb,
            (c, _) => Task.FromResult(new ReplayResult(c.ScanId, [], 0, c.Pixels)));
        await potentiostat.MapCommandAsync<CvCommand, TechniqueFinishedEvent>(PotentiostatTopics.CvVerb, (c, _) =>
        {
            Interlocked.Increment(ref cvs);
            return Task.FromResult(new TechniqueFinishedEvent(DateTimeOffset.UnixEpoch, "cv", TechniqueOutcomes.Completed, c.ScanId, c.Pixel, 0, 0));
        });
        await scan.MapCommandAsync<ScanPixelsCommand, ScanPixelsResult>(ScanTopics.PixelsVerb,
            (c, _) => Task.FromResult(new ScanPixelsResult(c.ScanId, ScanState.Completed, 1, [new RecordedPixel(0, 0, 0, 0, 0, true, -1)])));

        // The command subscriptions reach the broker in the background: retry the first request until they are in place.
        ReplayResult? replay = null;
        await Eventually.TrueAsync(() => TryCall(() => replay = diffusion.CallAsync<ReplayCommand, ReplayResult>(ServiceNames.Potentiostat,
            PotentiostatTopics.ReplayVerb, new ReplayCommand("s1", [4]), TimeSpan.FromSeconds(2)).GetAwaiter().GetResult()),
            $"diffusion's replay answered; mosquitto said: {broker.Server.Output}", Patience);
        Assert.Equal([4], replay!.Missing);
        ScanPixelsResult? pixels = null;
        await Eventually.TrueAsync(() => TryCall(() => pixels = diffusion.CallAsync<ScanPixelsCommand, ScanPixelsResult>(ServiceNames.Scan,
            ScanTopics.PixelsVerb, new ScanPixelsCommand("s1"), TimeSpan.FromSeconds(2)).GetAwaiter().GetResult()),
            $"diffusion's pixels query answered; mosquitto said: {broker.Server.Output}", Patience);
        Assert.Equal(0, Assert.Single(pixels!.Pixels).Index);

        await Assert.ThrowsAsync<CommandTimeoutException>(() => diffusion.RequestAsync(ServiceNames.Potentiostat, PotentiostatTopics.CvVerb,
            new CvCommand("s1", 0, 1.2, 1.9, 1.2, [1.0]), TimeSpan.FromSeconds(3)));
        await Assert.ThrowsAsync<CommandTimeoutException>(() => diffusion.RequestAsync(ServiceNames.Scan, "abort", new EmptyCommand(), TimeSpan.FromSeconds(2)));
        Assert.Equal(0, cvs);
    }

    [Fact]
    public async Task A_diffusion_worker_reads_the_retained_result_another_worker_published()
    {
        const string instrument = "aclr2";
        await using var broker = await SecuredBroker.StartAsync(instrument);
        await using var first = await BusAsync(broker, ServiceNames.Diffusion, instrument, "w1");
        var topic = Topic.Result(instrument, "s2", "pixel") + "/3";
        await first.PublishConfirmedAsync(topic, new PingResult("diffusion", instrument, DateTimeOffset.UnixEpoch, "result of pixel 3"), retain: true);

        await using var second = await BusAsync(broker, ServiceNames.Diffusion, instrument, "w2");
        var got = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await second.SubscribeAsync(Topic.ResultFilter(instrument), (m, _) =>
        {
            got.TrySetResult(m.Topic);
            return Task.CompletedTask;
        });

        Assert.Equal(topic, await got.Task.WaitAsync(Patience));
    }

    private static bool TryCall(Action call)
    {
        try
        {
            call();
            return true;
        }
        catch (CommandTimeoutException)
        {
            return false;
        }
    }

    private static async Task<MqttBus> BusAsync(SecuredBroker broker, string service, string instrument, string? workerId = null)
    {
        var user = SecuredBroker.User(service, instrument);
        var bus = new MqttBus(service, new SeccmOptions { Instrument = instrument, WorkerId = workerId },
            new MqttOptions { Host = broker.Server.Host, Port = broker.Server.Port, Username = user, Password = broker.Password(user) },
            NullLogger.Instance, TimeProvider.System);
        await bus.StartAsync(CancellationToken.None);
        await bus.WaitConnectedAsync(Patience, CancellationToken.None);
        return bus;
    }
}
