using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Integration.Tests.Infrastructure;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Integration.Tests.Foundation;

public sealed class ServiceProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_killed_service_shows_offline_through_its_last_will()
    {
        await using var broker = await MosquittoServer.StartAsync();
        var instrument = "lw" + Environment.ProcessId;
        await using var watcher = await ConnectAsync(broker, instrument);
        var states = new ConcurrentQueue<ServiceStatus>();
        await watcher.SubscribeAsync(Topic.Status(instrument, ServiceNames.Glovebox), (m, _) =>
        {
            states.Enqueue(SeccmJson.Deserialize<ServiceStatus>(m.Payload.Span, m.Topic));
            return Task.CompletedTask;
        });

        using var service = SeccmProcess.StartService(ServiceNames.Glovebox, broker, instrument,
            new Dictionary<string, string> { ["SECCM__MQTT__KEEPALIVESECONDS"] = "2" });
        await Eventually.TrueAsync(() => states.LastOrDefault()?.IsOnline == true, $"glovebox online; it said: {service.Output}", TimeSpan.FromSeconds(60));

        var killedAt = Stopwatch.StartNew();
        service.Kill();
        await Eventually.TrueAsync(() => states.LastOrDefault()?.State == ServiceStatus.Offline, "offline via last will", TimeSpan.FromSeconds(30));
        output.WriteLine($"offline seen {killedAt.ElapsedMilliseconds} ms after SIGKILL (keep-alive 2 s)");
    }

    [Fact]
    public async Task Seccm_all_brings_all_five_services_online_and_each_answers_ping()
    {
        await using var broker = await MosquittoServer.StartAsync();
        var instrument = "all" + Environment.ProcessId;
        await using var watcher = await ConnectAsync(broker, instrument);
        var online = new ConcurrentDictionary<string, bool>();
        await watcher.SubscribeAsync(Topic.StatusFilter(instrument), (m, _) =>
        {
            var status = SeccmJson.Deserialize<ServiceStatus>(m.Payload.Span, m.Topic);
            online[status.Service] = status.IsOnline;
            return Task.CompletedTask;
        });

        var started = Stopwatch.StartNew();
        using var all = SeccmProcess.StartService("all", broker, instrument);
        await Eventually.TrueAsync(() => ServiceNames.All.All(s => online.GetValueOrDefault(s)),
            $"all five services online; seccm said: {all.Output}", TimeSpan.FromSeconds(90));
        output.WriteLine($"cold start to five statuses online: {started.ElapsedMilliseconds} ms");

        foreach (var service in ServiceNames.All)
        {
            var pong = await watcher.CallAsync<PingCommand, PingResult>(service, "ping", new PingCommand(service), TimeSpan.FromSeconds(15));
            Assert.Equal(service, pong.Service);
        }
        Assert.True(all.Terminate(TimeSpan.FromSeconds(30)), "seccm all stops on SIGTERM");
        await Eventually.TrueAsync(() => ServiceNames.All.All(s => !online.GetValueOrDefault(s)), "all offline after SIGTERM");
    }

    [Fact]
    public void A_bad_option_stops_start_up_with_a_message_naming_it()
    {
        using var process = SeccmProcess.Start(["stage", "--mqtt-port", "70000"]);
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.NotEqual(0, process.Process.ExitCode);
        Assert.Contains("--mqtt-port", process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_instrument_in_the_environment_is_refused_at_start()
    {
        using var process = SeccmProcess.Start(["stage", "--mqtt-host", "127.0.0.1", "--mqtt-port", "1"],
            new Dictionary<string, string> { ["SECCM__INSTRUMENT"] = "bad/name" });
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(2, process.Process.ExitCode);
        Assert.Contains("Instrument", process.Output, StringComparison.Ordinal);
    }

    private static async Task<MqttBus> ConnectAsync(MosquittoServer broker, string instrument)
    {
        var bus = new MqttBus(ServiceNames.Cli, new SeccmOptions { Instrument = instrument, WorkerId = "watch" },
            new MqttOptions { Host = broker.Host, Port = broker.Port }, NullLogger.Instance, TimeProvider.System);
        await bus.StartAsync(CancellationToken.None);
        await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
        return bus;
    }
}
