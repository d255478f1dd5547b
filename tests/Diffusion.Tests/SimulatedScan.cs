using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Topics;
using Seccm.TestSupport;
using Seccm.Electrochemistry.Samples;
using Seccm.Electrochemistry.Simulation;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;

namespace Seccm.Diffusion.Tests;

/// <summary>A small LTO D-map scan made with our simulator: the messages the scan and potentiostat services would send, and the truth.</summary>
internal sealed class SimulatedScan
{
    public static readonly double[] Rates = [1.25, 2.5, 5, 10, 20];
    private static readonly Lazy<(double[] E, double[] I)[][]> Curves16 = new(() => Simulate(4));
    private const double PitchUm = 1.0;
    private const double OriginUm = 0.5;

    public SimulatedScan(string scanId, int n, int noContactPixel = -1)
    {
        ScanId = scanId;
        N = n;
        var sample = SampleCatalog.Create("lto", 11);
        var (start, vertex) = sample.DefaultWindowV;
        Recipe = new Recipe("test-lto", new GridSpec(n, n, PitchUm), Origin: new PointSpec(OriginUm, OriginUm),
            Technique: new TechniqueSpec(TechniqueKind.Cv, new CvSpec(start, vertex, start, Rates)), Sample: "lto",
            Analysis: new AnalysisSpec(RadiusNm: SampleDefaults.PipetteRadiusNm, ConcentrationMolCm3: SampleDefaults.LtoConcentrationMolCm3));
        var pixels = new List<PixelSpec>();
        for (var iy = 0; iy < n; iy++)
        {
            for (var ix = 0; ix < n; ix++)
            {
                pixels.Add(new PixelSpec(pixels.Count, ix, iy, OriginUm + (ix * PitchUm), OriginUm + (iy * PitchUm)));
            }
        }
        Started = new ScanStartedEvent(scanId, Recipe, n, n, pixels, DateTimeOffset.UnixEpoch);
        NoContactPixel = noContactPixel;
        // Pixels beyond the 4 x 4 simulated ones reuse their curves (throughput runs); the truth is that of the curves' pixel.
        TrueD = pixels.Select(p => Source(p.Index) is var s ? sample.TrueDCm2PerS(OriginUm + (s % 4 * PitchUm), OriginUm + (s / 4 * PitchUm)) : 0).ToArray();
        Sample = sample;
    }

    public string ScanId { get; }

    public int N { get; }

    public Recipe Recipe { get; }

    public ScanStartedEvent Started { get; }

    public int NoContactPixel { get; }

    public double[] TrueD { get; }

    public Sample Sample { get; }

    public int Pixels => N * N;

    private int Source(int pixel) => (pixel % N % 4) + (pixel / N % 4 * 4);

    public List<CurveChunk> ChunksOf(int pixel, int chunkSamples = 400)
    {
        if (pixel == NoContactPixel)
        {
            return [];
        }
        var curves = Curves16.Value[Source(pixel)];
        return CurveChunks.Of(ScanId, pixel, curves.Select((c, k) => (Rates[k], c.E, c.I)).ToList(), chunkSamples);
    }

    public PixelDoneEvent DoneEvent(int pixel)
    {
        var p = Started.Pixels[pixel];
        var contact = pixel != NoContactPixel;
        // Contact height: the sample's height on a tilted plane (levelling removes the tilt).
        double? z = contact ? (Sample.HeightNm(p.XUm, p.YUm) / 1000) + (0.02 * p.XUm) + 1.0 : null;
        return new PixelDoneEvent(ScanId, pixel, p.Ix, p.Iy, p.XUm, p.YUm, contact, z, DateTimeOffset.UnixEpoch.AddSeconds(pixel));
    }

    private static (double[] E, double[] I)[][] Simulate(int n)
    {
        var sample = SampleCatalog.Create("lto", 11);
        var (start, vertex) = sample.DefaultWindowV;
        var all = new (double[] E, double[] I)[n * n][];
        Parallel.For(0, n * n, p =>
        {
            var (x, y) = (OriginUm + (p % n * PitchUm), OriginUm + (p / n * PitchUm));
            all[p] = Rates.Select((v, k) =>
            {
                var electrode = sample.ElectrodeAt(x, y, new PipetteSettings(NoiseRmsA: 0.1e-12, NoiseSeed: (p * 31) + k + 1));
                var sim = CvSimulator.Cv(electrode, new CvProtocol(start, vertex, start, 0.001, v));
                return (sim.PotentialV, sim.CurrentA);
            }).ToArray();
        });
        return all;
    }
}

/// <summary>Starts diffusion workers and a client bus against a broker.</summary>
internal static class DiffusionHosts
{
    public const string Instrument = "t1";

    public static async Task<(IHost Host, DiffusionWorker Worker)> StartAsync(int port, string outputDir, string? workerId, bool embeddedBroker,
        IDictionary<string, string?>? extra = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var config = new Dictionary<string, string?>
        {
            ["Instrument"] = Instrument,
            ["WorkerId"] = workerId,
            ["Mqtt:Host"] = "127.0.0.1",
            ["Mqtt:Port"] = port.ToString(CultureInfo.InvariantCulture),
            ["Mqtt:SessionExpirySeconds"] = "0",
            ["Storage:Directory"] = Path.Combine(outputDir, $"timeseries-{workerId}"),
            ["Storage:BufferDirectory"] = Path.Combine(outputDir, $"buffer-{workerId}"),
            ["Diffusion:OutputDirectory"] = outputDir,
            ["Diffusion:SpillDirectory"] = Path.Combine(outputDir, $"spill-{workerId}"),
            ["Diffusion:CurveWaitS"] = "20",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            config[k] = v;
        }
        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.AddLogging();
        if (embeddedBroker)
        {
            builder.AddEmbeddedBroker();
        }
        builder.AddDiffusionService();
        var host = builder.Build();
        await host.StartAsync();
        var worker = host.Services.GetServices<IHostedService>().OfType<DiffusionWorker>().Single();
        await worker.Ready.WaitAsync(TimeSpan.FromSeconds(30));
        return (host, worker);
    }

    public static async Task<MqttBus> ClientAsync(int port)
    {
        var client = new MqttBus(ServiceNames.Cli, new SeccmOptions { Instrument = Instrument, WorkerId = Guid.NewGuid().ToString("N")[..8] },
            new MqttOptions { Host = "127.0.0.1", Port = port, SessionExpirySeconds = 0 }, NullLogger.Instance, TimeProvider.System);
        await client.StartAsync(CancellationToken.None);
        await client.WaitConnectedAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        return client;
    }

    public static string ScanEvent(string name) => Topic.Event(Instrument, ServiceNames.Scan, name);

    public static async Task StopAsync(IHost host)
    {
        await host.StopAsync();
        host.Dispose();
    }
}
