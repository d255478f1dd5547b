using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Curves;
using Seccm.Curves.Assembly;
using Seccm.Host.Hosting;
using Seccm.Host.Verbs;
using Seccm.Messaging.Bus;

namespace Seccm.Host.Reproduce;

/// <summary>What one scan produced: curves (rate = half-cycle for a charge/discharge; the last complete take of each pixel), pixel events (contact heights) and the diffusion service's export event.</summary>
internal sealed record LabScan(ScanState? State, IReadOnlyList<Curve> Curves, IReadOnlyList<PixelDoneEvent> Pixels, DiffusionExportedEvent? Exported);

/// <summary>
/// The instrument on the simulator, as <c>seccm demo</c> runs it: embedded broker, the five services, an accelerated
/// simulated world, recipes through the real message path. The scan's data, pixel and export messages are recorded.
/// </summary>
internal sealed class SimulatedLab : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly MqttBus _bus;
    private readonly ConcurrentBag<CurveChunk> _chunks = [];
    private readonly ConcurrentBag<PixelDoneEvent> _pixels = [];
    /// <summary>Released by every chunk and pixel event: what the wait for a finished scan's data wakes on.</summary>
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<ScanFinishedEvent>> _finished = new();
    private TaskCompletionSource<DiffusionExportedEvent> _exported = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SimulatedLab(IHost host, MqttBus bus)
    {
        _host = host;
        _bus = bus;
    }

    /// <summary>The lab's client, for tests that listen to the instrument's traffic.</summary>
    internal IMessageBus Bus => _bus;

    /// <summary>Starts a lab whose potentiostat sees <paramref name="sample"/> through a pipette of <paramref name="pipetteRadiusNm"/>.</summary>
    public static async Task<SimulatedLab> StartAsync(string outputDirectory, string sample, int seed, double pipetteRadiusNm, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(outputDirectory);
        var work = Path.Combine(outputDirectory, ".lab");
        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }
        var settings = new Dictionary<string, string?>
        {
            ["Simulation:TimeScale"] = DemoVerb.DefaultTimeScale.ToString(CultureInfo.InvariantCulture),
            ["Potentiostat:Sample"] = sample,
            ["Potentiostat:SampleSeed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["Potentiostat:Seed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["Potentiostat:PipetteRadiusNm"] = pipetteRadiusNm.ToString(CultureInfo.InvariantCulture),
            ["Scan:StateDirectory"] = Path.Combine(work, "state"),
            ["Potentiostat:DataDirectory"] = Path.Combine(work, "raw-curves"),
            ["Diffusion:OutputDirectory"] = outputDirectory,
            ["Diffusion:FlatOutput"] = "true",
            ["Storage:Directory"] = Path.Combine(work, "timeseries"),
            ["Storage:BufferDirectory"] = Path.Combine(work, "storage-buffer"),
            // Its own broker on a free port: never another instrument's.
            ["Mqtt:Port"] = DemoVerb.FreeLoopbackPort().ToString(CultureInfo.InvariantCulture),
        };
        var configuration = HostComposer.BuildConfiguration(null, settings);
        var host = HostComposer.CreateBuilder(configuration, ServiceNames.All, embeddedBrokerAllowed: true, LogLevel.Error).Build();
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var bus = await ClientBus.ConnectAsync(configuration, TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false);
            await ClientBus.WaitOnlineAsync(bus, ServiceNames.Scan, DemoVerb.StartupGuard, cancellationToken).ConfigureAwait(false);
            var lab = new SimulatedLab(host, bus);
            await lab.SubscribeAsync().ConfigureAwait(false);
            return lab;
        }
        catch
        {
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            host.Dispose();
            throw;
        }
    }

    private async Task SubscribeAsync()
    {
        await _bus.SubscribeAsync(Topic.DataFilter(_bus.Instrument), (m, _) =>
        {
            _chunks.Add(SeccmJson.DeserializeValid<CurveChunk>(m.Payload.Span, m.Topic));
            _arrived.Release();
            return Task.CompletedTask;
        }).ConfigureAwait(false);
        await _bus.SubscribeAsync(ScanTopics.PixelTopic(_bus.Instrument), (m, _) =>
        {
            _pixels.Add(SeccmJson.DeserializeValid<PixelDoneEvent>(m.Payload.Span, m.Topic));
            _arrived.Release();
            return Task.CompletedTask;
        }).ConfigureAwait(false);
        await _bus.SubscribeAsync(ScanTopics.FinishedTopic(_bus.Instrument), (m, _) =>
        {
            var finished = SeccmJson.DeserializeValid<ScanFinishedEvent>(m.Payload.Span, m.Topic);
            _finished.GetOrAdd(finished.ScanId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(finished);
            return Task.CompletedTask;
        }).ConfigureAwait(false);
        await _bus.SubscribeAsync(ScanTopics.StateTopic(_bus.Instrument), (m, _) =>
        {
            // A reproduction has no operator to resume a scan a device stopped (it refused a technique): end it with the
            // reason. An interlock pause (glovebox O2/H2O) resumes by itself once the atmosphere recovers.
            var change = SeccmJson.DeserializeValid<ScanStateEvent>(m.Payload.Span, m.Topic);
            if (change.State == ScanState.Paused && !change.Reason.StartsWith("interlock", StringComparison.OrdinalIgnoreCase))
            {
                _finished.GetOrAdd(change.ScanId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously))
                    .TrySetException(new InvalidOperationException($"scan {change.ScanId} paused: {change.Reason}"));
            }
            return Task.CompletedTask;
        }).ConfigureAwait(false);
        await _bus.SubscribeAsync(DiffusionTopics.ExportedTopic(_bus.Instrument), (m, _) =>
        {
            _exported.TrySetResult(SeccmJson.DeserializeValid<DiffusionExportedEvent>(m.Payload.Span, m.Topic));
            return Task.CompletedTask;
        }).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="recipe"/> to its end; with <paramref name="waitForExport"/> also waits for the map files.</summary>
    public async Task<LabScan> RunAsync(Recipe recipe, bool waitForExport, CancellationToken cancellationToken)
    {
        _chunks.Clear();
        _pixels.Clear();
        _exported = new TaskCompletionSource<DiffusionExportedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = await DemoVerb.StartWhenReadyAsync(_bus, recipe, cancellationToken).ConfigureAwait(false);
        var scanId = start.Progress!.ScanId;
        var final = await _finished.GetOrAdd(scanId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task
            .WaitAsync(TimeSpan.FromMinutes(30), cancellationToken).ConfigureAwait(false);
        DiffusionExportedEvent? exported = null;
        try
        {
            // Even when the maps are not needed, let the diffusion service finish its export before the lab stops.
            exported = await _exported.Task.WaitAsync(waitForExport ? TimeSpan.FromMinutes(5) : TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!waitForExport)
        {
            // A scan the diffusion service does not map (a charge/discharge) may export nothing.
        }
        // Data messages are QoS 1 and in order per topic, but each subscription has its own queue: pixel events and
        // curve chunks may still be queued behind the finished event. Wait until every pixel event is in and every
        // measured pixel's curves are complete (woken by each message; the guard only bounds a hang).
        await WaitForDataAsync(scanId, final.PixelsDone, cancellationToken).ConfigureAwait(false);
        // Duplicates (QoS 1) and earlier takes of a pixel measured again go: the assembler keeps the last complete take.
        var curves = _chunks.Where(c => c.ScanId == scanId).GroupBy(c => c.Technique)
            .SelectMany(g => CurveAssembler.AssembleAll(g, $"scan {scanId}"))
            .OrderBy(c => c.Pixel).ThenBy(c => c.RateIndex).ToArray();
        var pixels = _pixels.Where(p => p.ScanId == scanId).OrderBy(p => p.Index).ToArray();
        return new LabScan(final.State, curves, pixels, exported);
    }

    private async Task WaitForDataAsync(string scanId, int pixelsDone, CancellationToken cancellationToken)
    {
        var guard = Stopwatch.StartNew();
        while (!HasAllData(scanId, pixelsDone) && guard.Elapsed < DataGuard)
        {
            // Woken by the next message; the timeout only re-checks (a message may have come in during the check).
            await _arrived.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            while (_arrived.CurrentCount > 0)
            {
                await _arrived.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Every pixel event of the scan is in, and every pixel measured (contact, not skipped) has all the curves of the take
    /// its event names (a pixel measured again has a later take than its first, whose curves may be complete already).
    /// </summary>
    private bool HasAllData(string scanId, int pixelsDone)
    {
        var pixels = _pixels.Where(p => p.ScanId == scanId).GroupBy(p => p.Index).Select(g => g.MaxBy(p => p.Take)!).ToArray();
        if (pixels.Length < pixelsDone)
        {
            return false;
        }
        var chunks = _chunks.Where(c => c.ScanId == scanId).ToLookup(c => (c.Pixel, c.Take));
        foreach (var pixel in pixels.Where(p => p.Contact && p.Skipped is null))
        {
            var ofTake = chunks[(pixel.Index, pixel.Take)].ToArray();
            if (ofTake.Length == 0 || CurveAssembler.Assemble(ofTake, $"scan {scanId}").Count < ofTake.Max(c => c.RateCount))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>How long the data of a finished scan may take to arrive: a hang guard, not an expectation.</summary>
    private static readonly TimeSpan DataGuard = TimeSpan.FromMinutes(2);

    public async ValueTask DisposeAsync()
    {
        await _bus.DisposeAsync().ConfigureAwait(false);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(stop.Token).ConfigureAwait(false);
        _host.Dispose();
        _arrived.Dispose();
    }
}
