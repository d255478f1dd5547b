using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet.Protocol;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Stage;
using Seccm.Contracts.Topics;
using Seccm.Electrochemistry.Samples;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.Potentiostat.Drivers;
using Seccm.TestSupport;

namespace Seccm.Potentiostat.Tests;

/// <summary>The potentiostat service end to end: embedded broker, the service with a simulated driver, a client bus.</summary>
public sealed class PotentiostatServiceTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    internal const string Instrument = "p1";
    private readonly ConcurrentQueue<CurveChunk> _data = new();
    private readonly ConcurrentQueue<ContactEvent> _contacts = new();
    private readonly ConcurrentQueue<TechniqueFinishedEvent> _finished = new();
    private readonly ConcurrentQueue<CurrentTelemetry> _telemetry = new();
    private IHost _host = null!;
    private MqttBus _client = null!;
    private IPipettePositionSource _position = null!;

    internal static IHost BuildHost(int port, Func<IServiceProvider, IPipettePositionSource, IPotentiostat>? driver, int chunkSamples = 1000,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var dataDir = Directory.CreateTempSubdirectory("seccm-pstat-").FullName;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Instrument"] = Instrument,
            ["Mqtt:Host"] = "127.0.0.1",
            ["Mqtt:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Storage:Directory"] = Path.Combine(dataDir, "timeseries"),
            ["Storage:BufferDirectory"] = Path.Combine(dataDir, "buffer"),
            ["Potentiostat:DataDirectory"] = Path.Combine(dataDir, "curves"),
            ["Potentiostat:ChunkSamples"] = chunkSamples.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Potentiostat:TelemetryHz"] = "20",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }
        builder.Services.AddLogging();
        builder.AddEmbeddedBroker();
        builder.AddPotentiostatService(driver);
        return builder.Build();
    }

    internal static async Task<MqttBus> ConnectClientAsync(int port)
    {
        var client = new MqttBus(ServiceNames.Cli, new SeccmOptions { Instrument = Instrument }, new MqttOptions { Host = "127.0.0.1", Port = port },
            NullLogger.Instance, TimeProvider.System);
        await client.StartAsync(CancellationToken.None);
        await client.WaitConnectedAsync(Timeout, CancellationToken.None);
        return client;
    }

    public async Task InitializeAsync()
    {
        var port = FreePort.Next();
        _host = BuildHost(port, (_, position) => new SimulatedPotentiostat(SampleCatalog.Create("lto", 2), new PipetteSettings(NoiseRmsA: 0.2e-12),
            _position = position, TimeProvider.System, new SimulatedPotentiostatOptions(ChunkSize: 100, RealTime: true)));
        await _host.StartAsync();
        _client = await ConnectClientAsync(port);
        await Subscribe(Topic.DataFilter(Instrument), _data);
        await Subscribe(PotentiostatTopics.ContactTopic(Instrument), _contacts);
        await Subscribe(PotentiostatTopics.TechniqueFinishedTopic(Instrument), _finished);
        await Subscribe(PotentiostatTopics.CurrentTopic(Instrument), _telemetry, MqttQualityOfServiceLevel.AtMostOnce);
        await Eventually.TrueAsync(() => !_telemetry.IsEmpty, "first current telemetry");
    }

    private Task Subscribe<T>(string filter, ConcurrentQueue<T> into, MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce) =>
        _client.SubscribeAsync(filter, (m, _) =>
        {
            into.Enqueue(SeccmJson.Deserialize<T>(m.Payload.Span, m.Topic));
            return Task.CompletedTask;
        }, qos);

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _host.StopAsync();
        _host.Dispose();
    }

    private Task MoveStageAsync(double xUm, double yUm, double zUm) =>
        _client.PublishAsync(StageTopics.PositionTopic(Instrument), new StagePositionTelemetry(DateTimeOffset.UnixEpoch, xUm, yUm, zUm, true, false, false),
            MqttQualityOfServiceLevel.AtMostOnce).AsTask();

    [Fact]
    public async Task A_cv_is_published_in_numbered_chunks_that_rebuild_every_curve_exactly()
    {
        await MoveStageAsync(2.5, 2.5, 0);
        await Eventually.TrueAsync(() => _position.Newest?.Position.ZUm == 0, "the stage position at the potentiostat");
        var command = new CvCommand("scan-1", 7, 1.2, 1.9, 1.2, [1.25, 2.5, 5], StepV: 0.005, Cycles: 2);

        var finished = await _client.CallAsync<CvCommand, TechniqueFinishedEvent>(ServiceNames.Potentiostat, PotentiostatTopics.CvVerb, command, Timeout);

        Assert.Equal(TechniqueOutcomes.Completed, finished.Outcome);
        Assert.Equal(3 * 561, finished.Samples);
        await Eventually.TrueAsync(() => _data.Count(c => c.ScanId == "scan-1") == finished.Chunks, "every data chunk");
        for (var r = 0; r < 3; r++)
        {
            var chunks = _data.Where(c => c.ScanId == "scan-1" && c.RateIndex == r).OrderBy(c => c.ChunkIndex).ToList();
            Assert.All(chunks, c => Assert.Equal((7, "cv", 3, 280, command.ScanRatesVPerS[r]), (c.Pixel, c.Technique, c.RateCount, c.SamplesPerCycle, c.ScanRateVPerS)));
            Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.ChunkIndex));
            Assert.All(chunks, c => Assert.Equal(chunks.Count, c.ChunkCount));
            Assert.Equal([.. Enumerable.Repeat(false, chunks.Count - 1), true], chunks.Select(c => c.Last));
            var next = 0L;
            foreach (var c in chunks)
            {
                Assert.Equal(next, c.FirstSampleIndex);
                next += c.TimeS.Length;
            }
            Assert.Equal(561, next);
            var potential = chunks.SelectMany(c => c.PotentialV).ToArray();
            Assert.Equal(1.9, potential[140], 6);
            Assert.Equal(1.2, potential[560], 6);
        }
        Assert.Contains(_finished, f => f.ScanId == "scan-1" && f.Outcome == TechniqueOutcomes.Completed);
    }

    [Fact]
    public async Task Bad_or_out_of_limit_commands_are_refused_and_nothing_runs()
    {
        var reply = await _client.RequestAsync(ServiceNames.Potentiostat, PotentiostatTopics.CvVerb,
            new CvCommand("scan-x", 0, 1.2, 9, 1.2, [1.25]), Timeout);
        Assert.Equal(ErrorCodes.Refused, reply.Error!.Code);
        Assert.Contains("vertex1PotentialV 9", reply.Error.Message, StringComparison.Ordinal);

        reply = await _client.RequestAsync(ServiceNames.Potentiostat, PotentiostatTopics.CvVerb, new CvCommand("bad/id", 0, 1.2, 1.9, 1.2, [1.25]), Timeout);
        Assert.Equal(ErrorCodes.InvalidArgument, reply.Error!.Code);
        Assert.Contains("scanId", reply.Error.Message, StringComparison.Ordinal);

        reply = await _client.RequestAsync(ServiceNames.Potentiostat, PotentiostatTopics.HoldVerb, new HoldCommand(1.3, 1, IntervalS: 0), Timeout);
        Assert.Equal(ErrorCodes.Refused, reply.Error!.Code);
        Assert.Contains("intervalS", reply.Error.Message, StringComparison.Ordinal);

        reply = await _client.RequestRawAsync(Topic.Command(Instrument, ServiceNames.Potentiostat, PotentiostatTopics.CvVerb),
            Encoding.UTF8.GetBytes("{\"scanId\":\"s\",\"pixel\":\"seven\"}"), Timeout);
        Assert.Equal(ErrorCodes.BadPayload, reply.Error!.Code);
        Assert.Contains("pixel", reply.Error.Message, StringComparison.Ordinal);

        Assert.DoesNotContain(_data, c => c.ScanId == "scan-x");
        Assert.Empty(_finished);
    }

    [Fact]
    public async Task A_hold_publishes_contact_on_the_first_sample_above_threshold_and_ends_on_abort()
    {
        await MoveStageAsync(2.5, 2.5, 3);
        var started = await _client.CallAsync<HoldCommand, HoldStartedResult>(ServiceNames.Potentiostat, PotentiostatTopics.HoldVerb,
            new HoldCommand(1.3, null, 0.01, 2e-12, "approach-1"), Timeout);
        Assert.Equal(1.3, started.PotentialV);

        // A second technique is refused while the hold runs.
        var busy = await _client.RequestAsync(ServiceNames.Potentiostat, PotentiostatTopics.CvVerb, new CvCommand("scan-2", 0, 1.2, 1.9, 1.2, [1.25]), Timeout);
        Assert.Equal(ErrorCodes.Busy, busy.Error!.Code);

        await Eventually.TrueAsync(() => _telemetry.Any(t => t.Technique == "hold" && t.SamplesSinceLast > 0), "hold telemetry");
        Assert.Empty(_contacts);
        await MoveStageAsync(2.5, 2.5, 0); // the meniscus touches
        await Eventually.TrueAsync(() => _position.Newest?.Position.ZUm == 0, $"position z=0 at the potentiostat (has {_position.Newest})");
        await Eventually.TrueAsync(() => !_contacts.IsEmpty, "contact event");

        var aborted = await _client.CallAsync<EmptyCommand, AbortResult>(ServiceNames.Potentiostat, PotentiostatTopics.AbortVerb, new EmptyCommand(), Timeout);
        Assert.Equal("hold", aborted.AbortedTechnique);
        await Eventually.TrueAsync(() => _finished.Any(f => f.ScanId == "approach-1"), "hold finished");
        var finished = _finished.Single(f => f.ScanId == "approach-1");
        Assert.Equal(TechniqueOutcomes.Aborted, finished.Outcome);

        // The contact event names the first sample whose |i| crossed the threshold: no sample is skipped.
        await Eventually.TrueAsync(() => _data.Count(c => c.ScanId == "approach-1") == finished.Chunks, "every hold chunk");
        var samples = _data.Where(c => c.ScanId == "approach-1").OrderBy(c => c.ChunkIndex)
            .SelectMany(c => c.TimeS.Zip(c.CurrentA)).ToList();
        Assert.Equal(finished.Samples, samples.Count);
        var contact = Assert.Single(_contacts);
        var first = samples.First(s => Math.Abs(s.Second) > 2e-12);
        Assert.Equal(first.First, contact.HoldTimeS, 9);
        Assert.Equal(first.Second, contact.CurrentA);
        Assert.True(samples.Last().First > contact.HoldTimeS, "the hold went on after contact until the abort");

        // The device is free again.
        var cell = await _client.CallAsync<CellCommand, CellResult>(ServiceNames.Potentiostat, PotentiostatTopics.CellVerb, new CellCommand(false), Timeout);
        Assert.False(cell.On);
    }
}
