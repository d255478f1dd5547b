using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Integration.Tests.Infrastructure;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Messaging.Hosting;
using Seccm.Scan.Recipes;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Integration.Tests.Faults;

/// <summary>
/// One simulated instrument as it runs in the lab: a real mosquitto and influxd, and the five services each in its
/// own <c>seccm</c> process, plus a watcher that records every progress, pixel, result, finished and glovebox status
/// message. Tests kill and restart pieces of it and then check that no pixel and no point is lost or duplicated.
/// </summary>
internal sealed class ScanRig : IAsyncDisposable
{
    public const string Database = "seccm";

    private readonly ITestOutputHelper _output;
    private readonly Dictionary<string, OwnedProcess> _services = [];
    private readonly Dictionary<string, string> _extraEnv;
    private readonly List<string> _deadOutputs = [];

    private ScanRig(ITestOutputHelper output, MosquittoServer broker, InfluxdServer? influx, string instrument, string dir,
        Dictionary<string, string> extraEnv, MqttBus watcher)
    {
        _output = output;
        Broker = broker;
        Influx = influx;
        Instrument = instrument;
        Directory = dir;
        _extraEnv = extraEnv;
        Watcher = watcher;
    }

    public MosquittoServer Broker { get; }
    public InfluxdServer? Influx { get; }
    public string Instrument { get; }
    public string Directory { get; }
    public MqttBus Watcher { get; }
    public string MapsDirectory => Path.Combine(Directory, "maps");

    public ScanProgress? Progress { get; private set; }
    public ConcurrentQueue<PixelDoneEvent> PixelEvents { get; } = new();
    public ConcurrentQueue<PixelResultMessage> PixelResults { get; } = new();
    public ConcurrentQueue<ScanFinishedEvent> Finished { get; } = new();
    public ConcurrentQueue<ScanStateEvent> StateEvents { get; } = new();
    public ConcurrentDictionary<string, bool> Online { get; } = new();
    public bool? PumpOn { get; private set; }
    public ConcurrentQueue<(TimeSpan At, bool On)> PumpHistory { get; } = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>
    /// Broker, influxd (unless <paramref name="withInflux"/> is false), the watcher, and no services yet;
    /// <paramref name="watcherUser"/> logs the watcher (service "cli", which starts the scans) in on a secured broker.
    /// </summary>
    public static async Task<ScanRig> CreateAsync(ITestOutputHelper output, string instrument, bool withInflux = true,
        Dictionary<string, string>? extraEnv = null, MosquittoServer? sharedBroker = null, (string Name, string Password)? watcherUser = null)
    {
        var broker = sharedBroker ?? await MosquittoServer.StartAsync();
        var influx = withInflux ? await InfluxdServer.StartNewAsync() : null;
        var dir = System.IO.Directory.CreateTempSubdirectory("seccm-fault-").FullName;
        var watcher = new MqttBus(ServiceNames.Cli, new SeccmOptions { Instrument = instrument, WorkerId = "faultwatch" },
            new MqttOptions { Host = broker.Host, Port = broker.Port, KeepAliveSeconds = 2, Username = watcherUser?.Name, Password = watcherUser?.Password },
            NullLogger.Instance, TimeProvider.System);
        var rig = new ScanRig(output, broker, influx, instrument, dir, extraEnv ?? [], watcher);
        await watcher.StartAsync(CancellationToken.None);
        await watcher.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
        await rig.SubscribeAsync();
        return rig;
    }

    private async Task SubscribeAsync()
    {
        var i = Instrument;
        await Watcher.SubscribeAsync(Topic.Telemetry(i, ServiceNames.Scan, "progress"), (m, _) =>
        {
            Progress = SeccmJson.Deserialize<ScanProgress>(m.Payload.Span, m.Topic);
            return Task.CompletedTask;
        });
        await Watcher.SubscribeAsync(Topic.Event(i, ServiceNames.Scan, "pixel"), (m, _) =>
        {
            PixelEvents.Enqueue(SeccmJson.Deserialize<PixelDoneEvent>(m.Payload.Span, m.Topic));
            return Task.CompletedTask;
        });
        await Watcher.SubscribeAsync(Topic.Event(i, ServiceNames.Scan, "finished"), (m, _) =>
        {
            Finished.Enqueue(SeccmJson.Deserialize<ScanFinishedEvent>(m.Payload.Span, m.Topic));
            return Task.CompletedTask;
        });
        await Watcher.SubscribeAsync(Topic.Event(i, ServiceNames.Scan, "state"), (m, _) =>
        {
            StateEvents.Enqueue(SeccmJson.Deserialize<ScanStateEvent>(m.Payload.Span, m.Topic));
            return Task.CompletedTask;
        });
        await Watcher.SubscribeAsync($"{Topic.Root}/{i}/{ServiceNames.Diffusion}/result/+/{DiffusionTopics.PixelResult}", (m, _) =>
        {
            PixelResults.Enqueue(SeccmJson.Deserialize<PixelResultMessage>(m.Payload.Span, m.Topic));
            return Task.CompletedTask;
        });
        await Watcher.SubscribeAsync(Topic.StatusFilter(i), (m, _) =>
        {
            var status = SeccmJson.Deserialize<ServiceStatus>(m.Payload.Span, m.Topic);
            Online[status.Service] = status.IsOnline;
            if (status.Service == ServiceNames.Glovebox && status.IsOnline && status.Details is { } details
                && details.TryGetProperty("pumpOn", out var pump) && pump.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                PumpOn = pump.GetBoolean();
                PumpHistory.Enqueue((_clock.Elapsed, pump.GetBoolean()));
            }
            return Task.CompletedTask;
        });
    }

    /// <summary>The environment every service of this instrument gets; storage buffers are per process.</summary>
    public Dictionary<string, string> Environment(string service)
    {
        var env = new Dictionary<string, string>
        {
            ["SECCM__SIMULATION__TIMESCALE"] = "1000",
            ["SECCM__MQTT__KEEPALIVESECONDS"] = "2",
            ["SECCM__SCAN__STATEDIRECTORY"] = Path.Combine(Directory, "state"),
            ["SECCM__DIFFUSION__OUTPUTDIRECTORY"] = MapsDirectory,
            ["SECCM__DIFFUSION__SPILLDIRECTORY"] = Path.Combine(Directory, "spill"),
            ["SECCM__POTENTIOSTAT__DATADIRECTORY"] = Path.Combine(Directory, "curves"),
            ["SECCM__POTENTIOSTAT__SAMPLE"] = "lto",
            ["SECCM__STORAGE__BUFFERDIRECTORY"] = Path.Combine(Directory, "buffer-" + service),
            ["SECCM__STORAGE__FLUSHINTERVALMS"] = "200",
            ["SECCM__STORAGE__MAXRETRYDELAYMS"] = "1000",
        };
        if (Influx is not null)
        {
            env["SECCM__STORAGE__KIND"] = "influxdb1";
            env["SECCM__STORAGE__URL"] = Influx.Url.ToString().TrimEnd('/');
            env["SECCM__STORAGE__DATABASE"] = Database;
        }
        else
        {
            env["SECCM__STORAGE__KIND"] = "files";
            env["SECCM__STORAGE__DIRECTORY"] = Path.Combine(Directory, "timeseries-" + service);
        }
        foreach (var (k, v) in _extraEnv)
        {
            env[k] = v;
        }
        return env;
    }

    public void StartService(string service, Dictionary<string, string>? env = null)
    {
        var environment = Environment(service);
        foreach (var (k, v) in env ?? [])
        {
            environment[k] = v;
        }
        if (_services.Remove(service, out var old))
        {
            _deadOutputs.Add($"--- {service} (earlier run) ---{System.Environment.NewLine}{old.Output}");
            old.Dispose();
        }
        _services[service] = SeccmProcess.StartService(service, Broker, Instrument, environment);
    }

    public OwnedProcess Process(string service) => _services[service];

    public IReadOnlyDictionary<string, OwnedProcess> Processes => _services;

    /// <summary>Starts the five services; the stage and the potentiostat with extra settings (a real driver's) when given.</summary>
    public void StartAll(Dictionary<string, string>? stageEnv = null, Dictionary<string, string>? potentiostatEnv = null)
    {
        foreach (var service in ServiceNames.All)
        {
            StartService(service, service switch
            {
                ServiceNames.Stage => stageEnv,
                ServiceNames.Potentiostat => potentiostatEnv,
                _ => null,
            });
        }
    }

    // Hang guards, not speed requirements: services coming up on a machine at load 100+ took over 2 minutes. A start
    // command to a service that dies fails at once on its last will (CommandTargetOfflineException), not on this.
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(5);

    public Task WaitOnlineAsync(string service) =>
        Eventually.TrueAsync(() => Online.GetValueOrDefault(service), $"{service} online; it said: {Tail(service)}", HangGuard);

    public Task WaitAllOnlineAsync() =>
        Eventually.TrueAsync(() => ServiceNames.All.All(s => Online.GetValueOrDefault(s)),
            $"all five services online; they said: {AllOutput()}", HangGuard);

    /// <summary>The lto-demo recipe on an n x n grid over 5 x 5 um.</summary>
    public static Recipe SmallRecipe(int n)
    {
        var recipe = RecipeLoader.LoadBuiltIn("lto-demo");
        return recipe with { Grid = new GridSpec(n, n, 5.0 / n), Description = $"fault test, {n} x {n}" };
    }

    /// <summary><see cref="SmallRecipe"/> with CVs of <paramref name="cycles"/> scans per rate (nscans on a real potentiostat).</summary>
    public static Recipe MultiCycleRecipe(int n, int cycles)
    {
        var recipe = SmallRecipe(n);
        return recipe with { Technique = recipe.Technique! with { Cv = recipe.Technique.Cv! with { Cycles = cycles } } };
    }

    /// <summary>Starts the scan, retrying while the interlock still refuses (services coming online).</summary>
    public async Task<string> StartScanAsync(Recipe recipe, string scanId)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var reply = await Watcher.CallAsync<StartScanCommand, ScanStatusResult>(ServiceNames.Scan, "start",
                    new StartScanCommand(recipe, scanId), HangGuard, CancellationToken.None);
                _output.WriteLine($"[{Elapsed.TotalSeconds:0.0} s] start: {reply.Message}");
                return reply.Progress?.ScanId ?? scanId;
            }
            catch (CommandFailedException ex) when (ex.Code == ErrorCodes.Refused && deadline.Elapsed < HangGuard)
            {
                await Task.Delay(300);
            }
        }
    }

    /// <summary>
    /// Waits until the scan has done more than <paramref name="doneBefore"/> pixels (or finished). A pixel whose command
    /// reply was lost makes the scan pause at a safe point; the operator's answer to that is <c>scan resume</c>, sent here.
    /// Returns how many resumes were needed.
    /// </summary>
    public async Task<int> WaitScanMovesOnAsync(string scanId, int doneBefore, string after)
    {
        var resumes = 0;
        var deadline = Stopwatch.StartNew();
        while (!(Progress is { } p && p.ScanId == scanId && (p.PixelsDone > doneBefore || !p.IsActive)) && !Finished.Any(f => f.ScanId == scanId))
        {
            if (Progress is { State: ScanState.Paused } paused && paused.ScanId == scanId && deadline.Elapsed > TimeSpan.FromSeconds(1))
            {
                _output.WriteLine($"[{Elapsed.TotalSeconds:0.0} s] paused after {after}: {paused.PauseReason}; sending resume");
                try
                {
                    var reply = await Watcher.CallAsync<EmptyCommand, ScanStatusResult>(ServiceNames.Scan, "resume", new EmptyCommand(),
                        TimeSpan.FromSeconds(15), CancellationToken.None);
                    _output.WriteLine($"resume: {reply.Message}");
                    resumes++;
                }
                catch (CommandFailedException ex)
                {
                    _output.WriteLine($"resume refused: {ex.Message}");
                }
                await Task.Delay(1000);
            }
            Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(3),
                $"the scan did not move on after {after} (progress {Progress}, watcher connected {Watcher.IsConnected}); {AllOutput()}");
            await Task.Delay(100);
        }
        return resumes;
    }

    public Task WaitPixelsDoneAsync(string scanId, int pixels) =>
        Eventually.TrueAsync(() => Progress is { } p && p.ScanId == scanId && p.PixelsDone >= pixels,
            $"{pixels} pixels done of scan {scanId} (progress: {Progress})", TimeSpan.FromMinutes(3));

    public async Task<ScanFinishedEvent> WaitFinishedAsync(string scanId, TimeSpan? timeout = null)
    {
        await Eventually.TrueAsync(() => Finished.Any(f => f.ScanId == scanId),
            $"scan {scanId} finished (progress: {Progress}); services said: {AllOutput()}", timeout ?? TimeSpan.FromMinutes(5));
        return Finished.First(f => f.ScanId == scanId);
    }

    /// <summary>
    /// The end check of every fault test: the scan completed, every pixel index is exactly once in diffusion_map.csv,
    /// every pixel has a result on the bus, and influxd holds exactly one pixel_result point per pixel.
    /// </summary>
    public async Task<FaultNumbers> VerifyNothingLostAsync(string scanId, int pixels, string fault, TimeSpan? recovery)
    {
        var finished = await WaitFinishedAsync(scanId);
        Assert.True(finished.State == ScanState.Completed, $"scan {scanId} ended {finished.State}; services said: {AllOutput()}");
        Assert.Equal(pixels, finished.PixelsDone);

        var csv = Path.Combine(MapsDirectory, scanId, "diffusion_map.csv");
        await Eventually.TrueAsync(() => File.Exists(csv), $"{csv} written; diffusion said: {Tail(ServiceNames.Diffusion)}", TimeSpan.FromMinutes(2));
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        var ixCol = Array.IndexOf(header, "pixel_x");
        var iyCol = Array.IndexOf(header, "pixel_y");
        Assert.True(ixCol >= 0 && iyCol >= 0, $"diffusion_map.csv header: {lines[0]}");
        var csvPixels = lines.Skip(1).Where(l => l.Length > 0)
            .Select(l => l.Split(','))
            .Select(f => (Ix: int.Parse(f[ixCol], CultureInfo.InvariantCulture), Iy: int.Parse(f[iyCol], CultureInfo.InvariantCulture)))
            .ToList();
        var duplicates = csvPixels.GroupBy(p => p).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"pixels twice in diffusion_map.csv: {string.Join(", ", duplicates)}");
        Assert.True(pixels == csvPixels.Count,
            $"diffusion_map.csv holds {csvPixels.Count} of {pixels} pixels (missing: {string.Join(", ", MissingPixels(csvPixels, pixels))}); services said: {AllOutput()}");

        await Eventually.TrueAsync(() => PixelResults.Where(r => r.ScanId == scanId).Select(r => r.Index).Distinct().Count() == pixels,
            $"a result on the bus for each of {pixels} pixels", TimeSpan.FromMinutes(1));
        var results = PixelResults.Where(r => r.ScanId == scanId).ToList();
        Assert.Equal(Enumerable.Range(0, pixels), results.Select(r => r.Index).Distinct().Order());

        long stored = -1;
        long distinctStored = -1;
        if (Influx is not null)
        {
            // The diffusion service's sink flushes on its own schedule (and replays its disk buffer after an outage).
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromMinutes(2))
            {
                stored = await CountPixelResultsAsync(scanId);
                if (stored >= pixels)
                {
                    break;
                }
                await Task.Delay(250);
            }
            var rows = await Influx.RowsAsync(Database, $"SELECT \"pixel\" FROM \"pixel_result\" WHERE \"scan_id\" = '{scanId}'");
            distinctStored = rows.Select(r => r["pixel"].GetInt64()).Distinct().Count();
            stored = rows.Count;
        }
        var numbers = new FaultNumbers(fault, pixels, csvPixels.Count, results.Count, pixels, stored, distinctStored, recovery);
        _output.WriteLine(numbers.ToString());
        if (Influx is not null)
        {
            Assert.Equal(pixels, distinctStored);
            Assert.Equal(pixels, stored);
        }
        return numbers;
    }

    private static IEnumerable<int> MissingPixels(List<(int Ix, int Iy)> present, int pixels)
    {
        var side = (int)Math.Round(Math.Sqrt(pixels));
        return Enumerable.Range(0, pixels).Where(i => !present.Contains((i % side, i / side)));
    }

    public async Task<long> CountPixelResultsAsync(string scanId)
    {
        var rows = await Influx!.RowsAsync(Database, $"SELECT COUNT(\"pixel\") FROM \"pixel_result\" WHERE \"scan_id\" = '{scanId}'");
        return rows.Count == 0 ? 0 : rows[0]["count"].GetInt64();
    }

    public string Tail(string service) => _services.TryGetValue(service, out var p) ? Last(p.Output, 4000) : "(not started)";

    public string AllOutput() =>
        string.Join(System.Environment.NewLine, _deadOutputs.Select(o => Last(o, 3000)).Append($"--- mosquitto ---{System.Environment.NewLine}{Last(Broker.Output, 2000)}")
            .Concat(_services.Select(s => $"--- {s.Key} ---{System.Environment.NewLine}{Last(s.Value.Output, 3000)}")));

    private static string Last(string text, int chars) => text.Length <= chars ? text : "..." + text[^chars..];

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _services.Values)
        {
            p.Dispose();
        }
        await Watcher.DisposeAsync();
        if (Influx is not null)
        {
            await Influx.DisposeAsync();
        }
        await Broker.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>What a fault test measured, printed in its output and collected for the report.</summary>
internal sealed record FaultNumbers(string Fault, int PixelsExpected, int PixelsInMap, int ResultMessages, long PointsExpected, long PointsStored,
    long DistinctPixelsStored, TimeSpan? Recovery)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"FAULT | {Fault} | pixels expected {PixelsExpected} | in map {PixelsInMap} | result messages {ResultMessages} | pixel_result points expected {PointsExpected} stored {PointsStored} (distinct pixels {DistinctPixelsStored}) | recovery {(Recovery is { } r ? $"{r.TotalSeconds:0.0} s" : "n/a")}");
}
