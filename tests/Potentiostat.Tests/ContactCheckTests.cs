using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using MQTTnet.Protocol;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Stage;
using Seccm.Contracts.Topics;
using Seccm.Electrochemistry.Samples;
using Seccm.Messaging.Bus;
using Seccm.Potentiostat.Drivers;
using Seccm.TestSupport;

namespace Seccm.Potentiostat.Tests;

/// <summary>
/// <c>cmd/contact-check</c> on the service with the simulated cell: the stage's position telemetry (QoS 0) can reach the
/// potentiostat after the stage has ended its approach; the answer must not depend on that. The test is the stage here:
/// it sends the positions of an approach only after the question is on its way.
/// </summary>
public sealed class ContactCheckTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset StageStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly ConcurrentQueue<ContactEvent> _contacts = new();
    private readonly TaskCompletionSource _asked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IHost _host = null!;
    private MqttBus _client = null!;
    private IPipettePositionSource _position = null!;

    public async Task InitializeAsync()
    {
        var port = FreePort.Next();
        _host = PotentiostatServiceTests.BuildHost(port, (_, position) => new SimulatedPotentiostat(SampleCatalog.Create("lto", 2),
            new PipetteSettings(NoiseRmsA: 0.2e-12), _position = position, TimeProvider.System, new SimulatedPotentiostatOptions(ChunkSize: 100)));
        await _host.StartAsync();
        _client = await PotentiostatServiceTests.ConnectClientAsync(port);
        await _client.SubscribeAsync(PotentiostatTopics.ContactTopic(PotentiostatServiceTests.Instrument), (m, _) =>
        {
            _contacts.Enqueue(SeccmJson.Deserialize<ContactEvent>(m.Payload.Span, m.Topic));
            return Task.CompletedTask;
        });
        // The question as the broker passes it on: the stage's late positions are sent only after it.
        await _client.SubscribeAsync(Topic.Command(PotentiostatServiceTests.Instrument, ServiceNames.Potentiostat, PotentiostatTopics.ContactCheckVerb),
            (m, _) =>
            {
                // Only the questions about an approach (the refused one in the last test asks about StageStart itself).
                if (SeccmJson.Deserialize<ContactCheckCommand>(m.Payload.Span, m.Topic).StageTimeUtc > StageStart)
                {
                    _asked.TrySetResult();
                }
                return Task.CompletedTask;
            });
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _host.StopAsync();
        _host.Dispose();
    }

    private Task StageReportsAsync(double seconds, double zUm) =>
        _client.PublishAsync(StageTopics.PositionTopic(PotentiostatServiceTests.Instrument),
            new StagePositionTelemetry(StageStart.AddSeconds(seconds), 2.5, 2.5, zUm, true, true, true), MqttQualityOfServiceLevel.AtMostOnce).AsTask();

    private async Task<Task<ContactCheckResult>> HoldThenAskAsync(DateTimeOffset stageStop)
    {
        await StageReportsAsync(0, 3);
        await Eventually.TrueAsync(() => _position.Newest?.Position.ZUm == 3, "the start height at the potentiostat");
        await _client.CallAsync<HoldCommand, HoldStartedResult>(ServiceNames.Potentiostat, PotentiostatTopics.HoldVerb,
            new HoldCommand(1.3, null, 0.001, 2e-12), Timeout);
        var answer = _client.CallAsync<ContactCheckCommand, ContactCheckResult>(ServiceNames.Potentiostat, PotentiostatTopics.ContactCheckVerb,
            new ContactCheckCommand(stageStop), Timeout);
        await _asked.Task.WaitAsync(Timeout);
        return answer;
    }

    [Fact]
    public async Task A_touch_reported_after_the_question_but_stamped_before_the_stage_stopped_is_contact_at_the_first_touching_height()
    {
        // The stage went down 3 um and ran out of travel at t = 3 s; its reports come only now, after the question.
        var answer = await HoldThenAskAsync(StageStart.AddSeconds(3));
        await StageReportsAsync(1, 2);
        await StageReportsAsync(2, 0); // the meniscus touches (as in PotentiostatServiceTests)
        await StageReportsAsync(2.5, -0.5);
        await StageReportsAsync(3, -0.99);

        var check = await answer;

        Assert.True(check.Contact);
        Assert.Equal(0, check.Event!.PipetteZUm);
        // The event and the reply travel on different topics, handled by different subscriptions: either may come first.
        await Eventually.TrueAsync(() => !_contacts.IsEmpty, "the hold's contact event");
        Assert.Equal(check.Event.HoldTimeS, Assert.Single(_contacts).HoldTimeS);
        Assert.Empty(check.Validate());
    }

    [Fact]
    public async Task A_dry_approach_is_no_contact_only_once_the_reports_up_to_the_stop_are_in()
    {
        var answer = await HoldThenAskAsync(StageStart.AddSeconds(3));
        await StageReportsAsync(1, 2.5);
        await StageReportsAsync(3, 1);

        var check = await answer;

        Assert.False(check.Contact);
        Assert.Null(check.Event);
        Assert.Empty(_contacts);
        Assert.True(_position.Newest?.Position.ZUm == 1, "the answer came after the stop's report");
    }

    [Fact]
    public async Task A_question_without_a_contact_hold_is_refused_and_one_whose_hold_is_aborted_fails_with_a_reason()
    {
        var refused = await _client.RequestAsync(ServiceNames.Potentiostat, PotentiostatTopics.ContactCheckVerb,
            new ContactCheckCommand(StageStart), Timeout);
        Assert.Equal(ErrorCodes.Refused, refused.Error!.Code);

        // The stage's reports never reach the asked time (it died): the scan's abort ends the hold and the question.
        var answer = await HoldThenAskAsync(StageStart.AddSeconds(3));
        await _client.CallAsync<EmptyCommand, AbortResult>(ServiceNames.Potentiostat, PotentiostatTopics.AbortVerb, new EmptyCommand(), Timeout);
        var failed = await Assert.ThrowsAsync<Seccm.Messaging.Commands.CommandFailedException>(() => answer);
        Assert.Equal(ErrorCodes.DeviceError, failed.Code);
        Assert.Contains("contact unknown", failed.Message, StringComparison.Ordinal);
    }
}
