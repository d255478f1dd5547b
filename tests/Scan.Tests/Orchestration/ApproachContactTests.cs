using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet.Protocol;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Stage;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.Scan.Orchestration;
using Seccm.TestSupport;

namespace Seccm.Scan.Tests.Orchestration;

/// <summary>
/// The scan's approach over mosquitto with a stage and a potentiostat that answer as the real ones do when the
/// potentiostat learns of the touch only after the stage ran out of travel (its position telemetry came late under load):
/// the stage replies "travel exhausted", and the potentiostat's contact comes after that.
/// </summary>
public sealed class ApproachContactTests
{
    private const string Instrument = "appr1";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_approach_that_ran_out_of_travel_asks_the_potentiostat_up_to_the_stages_stop_and_takes_its_answer(bool touched)
    {
        var stageStop = new DateTimeOffset(2026, 1, 1, 0, 0, 3, TimeSpan.Zero);
        var asked = new ConcurrentQueue<ContactCheckCommand>();
        await using var broker = await MosquittoServer.StartAsync();
        var mqtt = new MqttOptions { Host = "127.0.0.1", Port = broker.Port };
        await using var stage = new MqttBus(ServiceNames.Stage, new SeccmOptions { Instrument = Instrument }, mqtt, NullLogger.Instance, TimeProvider.System);
        await using var potentiostat = new MqttBus(ServiceNames.Potentiostat, new SeccmOptions { Instrument = Instrument }, mqtt, NullLogger.Instance,
            TimeProvider.System);
        await using var scan = new MqttBus(ServiceNames.Scan, new SeccmOptions { Instrument = Instrument }, mqtt, NullLogger.Instance, TimeProvider.System);
        await stage.MapCommandAsync<ApproachCommand, ApproachStoppedEvent>(StageTopics.ApproachVerb, (command, _) =>
            Task.FromResult(new ApproachStoppedEvent(stageStop, ApproachStopReasons.TravelExhausted, -1, command.MaxTravelUm)));
        var late = new ContactEvent(stageStop, 3e-11, 2e-12, 1.3, 2.1, PipetteZUm: 0.04);
        await potentiostat.MapCommandAsync<HoldCommand, HoldStartedResult>(PotentiostatTopics.HoldVerb, (command, _) =>
            Task.FromResult(new HoldStartedResult(stageStop.AddSeconds(-3), command.PotentialV, command.IntervalS)));
        await potentiostat.MapCommandAsync<ContactCheckCommand, ContactCheckResult>(PotentiostatTopics.ContactCheckVerb, (command, _) =>
        {
            asked.Enqueue(command);
            return Task.FromResult(touched ? new ContactCheckResult(true, late) : new ContactCheckResult(false));
        });
        // The touch reaches the potentiostat only now: its contact event goes out when the hold is stopped, too late for
        // a scan that looks only at events already in when the stage replied.
        await potentiostat.MapCommandAsync<EmptyCommand, AbortResult>(PotentiostatTopics.AbortVerb, async (_, _) =>
        {
            if (touched)
            {
                await potentiostat.PublishAsync(PotentiostatTopics.ContactTopic(Instrument), late, MqttQualityOfServiceLevel.AtLeastOnce);
            }
            return new AbortResult("hold");
        });
        foreach (var bus in new[] { stage, potentiostat, scan })
        {
            await bus.StartAsync(CancellationToken.None);
            await bus.WaitConnectedAsync(Timeout, CancellationToken.None);
        }
        var instrument = new MqttScanInstrument(scan, new SimulationClock(TimeProvider.System, 1), new ScanOptions());

        var outcome = await instrument.ApproachAsync("s-late", new PixelSpec(0, 0, 0, 0, 0), new ApproachSpec(2, 3), CancellationToken.None);

        Assert.Equal(touched, outcome.Contact);
        Assert.Equal(touched ? 0.04 : null, outcome.ZUm);
        Assert.Equal(touched ? ApproachStopReasons.Contact : "no contact within 3 um", outcome.Reason);
        Assert.Equal(stageStop, Assert.Single(asked).StageTimeUtc);
    }
}
