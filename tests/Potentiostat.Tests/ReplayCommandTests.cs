using System.Collections.Concurrent;
using System.Text;
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
using Microsoft.Extensions.Hosting;

namespace Seccm.Potentiostat.Tests;

/// <summary><c>cmd/replay</c> on the embedded broker: the raw curves of a scan published again, byte for byte.</summary>
public sealed class ReplayCommandTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const string Instrument = "p1";
    private readonly ConcurrentQueue<(string Topic, string Json)> _data = new();
    private IHost _host = null!;
    private MqttBus _client = null!;

    public async Task InitializeAsync()
    {
        var port = FreePort.Next();
        _host = PotentiostatServiceTests.BuildHost(port, (_, position) => new SimulatedPotentiostat(SampleCatalog.Create("lto", 2),
            new PipetteSettings(NoiseRmsA: 0.2e-12), position, TimeProvider.System, new SimulatedPotentiostatOptions(ChunkSize: 100)), chunkSamples: 200);
        await _host.StartAsync();
        _client = await PotentiostatServiceTests.ConnectClientAsync(port);
        await _client.SubscribeAsync(Topic.DataFilter(Instrument), (m, _) =>
        {
            _data.Enqueue((m.Topic, Encoding.UTF8.GetString(m.Payload.Span)));
            return Task.CompletedTask;
        });
        // Telemetry runs once the commands are subscribed: a command sent before would be lost.
        var telemetry = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _client.SubscribeAsync(PotentiostatTopics.CurrentTopic(Instrument), (_, _) =>
        {
            telemetry.TrySetResult();
            return Task.CompletedTask;
        }, MqttQualityOfServiceLevel.AtMostOnce);
        await telemetry.Task.WaitAsync(Timeout);
        // In contact, so the CVs carry current.
        await _client.PublishAsync(StageTopics.PositionTopic(Instrument), new StagePositionTelemetry(DateTimeOffset.UnixEpoch, 2.5, 2.5, 0, true, false, false),
            MqttQualityOfServiceLevel.AtMostOnce);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _host.StopAsync();
        _host.Dispose();
    }

    private async Task<TechniqueFinishedEvent> CvAsync(string scanId, int pixel) =>
        await _client.CallAsync<CvCommand, TechniqueFinishedEvent>(ServiceNames.Potentiostat, PotentiostatTopics.CvVerb,
            new CvCommand(scanId, pixel, 1.2, 1.9, 1.2, [1.25, 5], StepV: 0.005), Timeout);

    [Fact]
    public async Task Replayed_pixels_come_again_as_the_same_payloads_on_the_same_topics_and_unknown_ones_are_named()
    {
        var measured = new[] { await CvAsync("scan-r", 3), await CvAsync("scan-r", 4), await CvAsync("scan-r", 5) };
        var total = measured.Sum(f => f.Chunks);
        await Eventually.TrueAsync(() => _data.Count == total, $"{total} chunks published");
        var first = _data.ToList();
        _data.Clear();

        var result = await _client.CallAsync<ReplayCommand, ReplayResult>(ServiceNames.Potentiostat, PotentiostatTopics.ReplayVerb,
            new ReplayCommand("scan-r", [5, 3, 9, 3]), Timeout);

        Assert.Equal([3, 5], result.Sent);
        Assert.Equal([9], result.Missing);
        Assert.Equal(measured[0].Chunks + measured[2].Chunks, result.ChunksSent);
        await Eventually.TrueAsync(() => _data.Count == result.ChunksSent, $"{result.ChunksSent} replayed chunks");
        bool OfPixel(string json, int pixel) => SeccmJson.Deserialize<CurveChunk>(Encoding.UTF8.GetBytes(json), "test").Pixel == pixel;
        Assert.Equal(first.Where(d => OfPixel(d.Json, 3) || OfPixel(d.Json, 5)).Order(), _data.Order());
        Assert.All(_data, d => Assert.Equal(PotentiostatTopics.CvDataTopic(Instrument, "scan-r"), d.Topic));

        var unknown = await _client.CallAsync<ReplayCommand, ReplayResult>(ServiceNames.Potentiostat, PotentiostatTopics.ReplayVerb,
            new ReplayCommand("scan-never", [0, 1]), Timeout);
        Assert.Equal((0, 0, 2), (unknown.Sent.Count, unknown.ChunksSent, unknown.Missing.Count));
    }

    [Theory]
    [InlineData("{\"scanId\":\"scan-r\",\"pixels\":[]}", ErrorCodes.InvalidArgument, "at least one pixel")]
    [InlineData("{\"scanId\":\"scan-r\",\"pixels\":[1,-2]}", ErrorCodes.InvalidArgument, "index -2")]
    [InlineData("{\"scanId\":\"scan/r\",\"pixels\":[1]}", ErrorCodes.InvalidArgument, "scanId 'scan/r'")]
    [InlineData("{\"scanId\":\"scan-r\"}", ErrorCodes.BadPayload, "pixels")]
    [InlineData("{\"scanId\":\"scan-r\",\"pixels\":\"all\"}", ErrorCodes.BadPayload, "pixels")]
    public async Task A_bad_replay_command_is_refused_with_what_and_where_and_publishes_nothing(string payload, string code, string names)
    {
        await CvAsync("scan-r", 1);
        await Eventually.TrueAsync(() => !_data.IsEmpty, "the first measurement's chunks");
        await Task.Delay(200);
        _data.Clear();

        var reply = await _client.RequestRawAsync(Topic.Command(Instrument, ServiceNames.Potentiostat, PotentiostatTopics.ReplayVerb),
            Encoding.UTF8.GetBytes(payload), Timeout);

        Assert.False(reply.Ok);
        Assert.Equal(code, reply.Error!.Code);
        Assert.Contains(names, reply.Error.Message, StringComparison.Ordinal);
        Assert.Contains("cmd/replay", reply.Error.Message, StringComparison.Ordinal);
        Assert.Empty(_data);
    }

    [Fact]
    public async Task Too_many_pixels_in_one_replay_are_refused()
    {
        var reply = await _client.RequestAsync(ServiceNames.Potentiostat, PotentiostatTopics.ReplayVerb,
            new ReplayCommand("scan-r", [.. Enumerable.Range(0, ReplayCommand.MaxPixels + 1)]), Timeout);
        Assert.Equal(ErrorCodes.InvalidArgument, reply.Error!.Code);
        Assert.Contains($"at most {ReplayCommand.MaxPixels}", reply.Error.Message, StringComparison.Ordinal);
    }
}
