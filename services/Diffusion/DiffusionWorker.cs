using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Diffusion.Export;
using Seccm.Diffusion.Pixels;
using Seccm.Diffusion.Reconciliation;
using Seccm.Diffusion.Results;
using Seccm.Diffusion.Scans;
using Seccm.Messaging.Bus;
using Seccm.Storage;

namespace Seccm.Diffusion;

/// <summary>
/// One diffusion worker. How the work is split over several workers:
/// an MQTT shared subscription splits MESSAGES, not pixels, so sharing the curve chunks would scatter the chunks of one
/// pixel over the workers. Instead every worker reads every chunk (plain subscription to <c>potentiostat/data/#</c>) and
/// rebuilds every pixel's curves (spilled to disk, so memory holds only pixels still in flight); the pixels are split by
/// sharing the scan's <c>event/pixel</c> (<c>$share/diffusion/...</c>): the worker that receives a pixel's done event
/// analyses it, at once or as soon as its last chunk arrives. Every worker also reads every pixel result (plain), so any
/// of them holds the whole map; <c>event/finished</c> is shared too, so exactly one worker exports. On a broker without
/// shared subscriptions (MQTTnet's embedded one) the worker subscribes plainly and is the only worker.
/// <para>
/// A worker killed mid-scan and started again (same client id, so the same persistent session) loses no pixel: chunks,
/// done events and <c>finished</c> are acknowledged to the broker only after they are handled, so what was in flight is
/// delivered again; a handled chunk is on disk first (the per-scan spill file, reopened and replayed at restart); a done
/// event is handled when its pixel's points are flushed to the sink and its result is on the broker, retained on
/// <c>result/{scanId}/pixel/{index}</c>, from where a restarted worker rebuilds the map. Handling is idempotent (a pixel
/// with a result is not analysed again; points of a pixel analysed twice have the same timestamp, so InfluxDB keeps one).
/// The retained results of a scan are cleared once its export at <c>finished</c> is written.
/// </para>
/// <para>
/// The jobs are apart: <see cref="ScanLedger"/> (what is known of each scan, its spill), <see cref="PixelJoin"/> (chunks
/// with done events), <see cref="ResultPublisher"/> (analysis, points, results), <see cref="Reconciler"/> (pixels a broker
/// lost) and <see cref="ScanExport"/> (the map files); this class subscribes them.
/// </para>
/// </summary>
internal sealed partial class DiffusionWorker : BackgroundService
{
    /// <summary>The share group of all diffusion workers of all instruments (the topic keeps instruments apart).</summary>
    public const string ShareGroup = "diffusion";

    // Event names of the scan service (services/Scan/Orchestration/MqttScanEvents.cs).
    internal const string ScanStartedEvent = ScanTopics.Started;
    internal const string ScanPixelEvent = ScanTopics.Pixel;
    internal const string ScanFinishedEvent = ScanTopics.Finished;

    private readonly IMessageBus _bus;
    private readonly TimeProvider _time;
    private readonly ILogger<DiffusionWorker> _logger;
    private readonly ScanLedger _ledger;
    private readonly ResultPublisher _publisher;
    private readonly PixelJoin _join;
    private readonly ScanExport _export;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DiffusionWorker(IMessageBus bus, DiffusionOptions options, ITimeSeriesSink sink, TimeProvider time, ILogger<DiffusionWorker> logger)
    {
        _bus = bus;
        _time = time;
        _logger = logger;
        _ledger = new ScanLedger(options, bus.ClientId, time, logger);
        _publisher = new ResultPublisher(bus, options, sink, time, _ledger, logger);
        _join = new PixelJoin(options, time, _ledger, _publisher, logger);
        _export = new ScanExport(bus, options, time, _ledger, _publisher, new Reconciler(bus, options, time, _ledger, _join, _publisher, logger), logger);
    }

    /// <summary>Pixels this worker analysed (tests, throughput).</summary>
    public long PixelsAnalysed => _publisher.PixelsAnalysed;

    /// <summary>Pixels whose curves this worker rebuilt completely (every worker rebuilds every pixel).</summary>
    public long PixelsRebuilt => _join.PixelsRebuilt;

    /// <summary>Pixels whose done event came to this worker and whose curves are still incomplete.</summary>
    public int PixelsWaiting => _join.PixelsWaiting;

    /// <summary>Time spent analysing (the CPU part of the work).</summary>
    public TimeSpan AnalysisTime => _publisher.AnalysisTime;

    /// <summary>Whether this worker joined the share group (false: it is the only worker).</summary>
    public bool Shared { get; private set; }

    public Task Ready => _ready.Task;

    internal static string RetainedResultTopic(string instrument, string scanId, int index) => ResultPublisher.RetainedResultTopic(instrument, scanId, index);

    internal static string RetainedResultFilter(string instrument) => ResultPublisher.RetainedResultFilter(instrument);

    /// <summary>
    /// Maps <c>cmd/export</c> before the host has started (the bus announces the service online only after it), shared
    /// like <c>event/finished</c> so that one worker of the group answers and exports.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await _bus.MapCommandAsync<ExportCommand, DiffusionExportedEvent>(DiffusionTopics.ExportVerb,
            _export.ExportCommandAsync, ShareGroup).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _join.Stopping = stoppingToken;
        _ledger.DeleteStaleSpills();
        var i = _bus.Instrument;
        // Before the connection if it is not up yet: what the persistent session kept for us then goes straight to its handler.
        await _bus.SubscribeAsync(Topic.Event(i, ServiceNames.Scan, ScanStartedEvent), OnStartedAsync).ConfigureAwait(false);
        await _bus.SubscribeAsync(Topic.DataFilter(i), _join.OnChunkAsync, acknowledgeAfterHandling: true).ConfigureAwait(false);
        await _bus.SubscribeAsync(RetainedResultFilter(i), _publisher.OnResultAsync).ConfigureAwait(false);
        // Whether the broker offers shared subscriptions is only known after its CONNACK.
        await _bus.WaitConnectedAsync(Timeout.InfiniteTimeSpan, stoppingToken).ConfigureAwait(false);
        Shared = _bus.SharedSubscriptionsAvailable;
        var pixelTopic = Topic.Event(i, ServiceNames.Scan, ScanPixelEvent);
        var finishedTopic = Topic.Event(i, ServiceNames.Scan, ScanFinishedEvent);
        await _bus.SubscribeAsync(Shared ? Topic.Shared(ShareGroup, pixelTopic) : pixelTopic, _join.OnPixelDoneAsync, acknowledgeAfterHandling: true)
            .ConfigureAwait(false);
        await _bus.SubscribeAsync(Shared ? Topic.Shared(ShareGroup, finishedTopic) : finishedTopic, _export.OnFinishedAsync, acknowledgeAfterHandling: true)
            .ConfigureAwait(false);
        LogStarted(_logger, _bus.ClientId, Shared ? $"shared subscription group '{ShareGroup}'" : "plain subscriptions (the only worker)");
        _ready.TrySetResult();
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _ledger.Dispose();
        }
    }

    private Task OnStartedAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (message.TryRead<ScanStartedEvent>(_logger, "dropped", out var started))
        {
            _ledger.Start(started);
        }
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{ClientId}: diffusion worker ready ({Mode})")]
    private static partial void LogStarted(ILogger logger, string clientId, string mode);
}
