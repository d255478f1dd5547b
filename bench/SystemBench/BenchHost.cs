using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Seccm.Host.Hosting;

namespace Seccm.Host.Bench;

/// <summary>
/// One real service (stage, glovebox, ...) hosted in this process against the bench's broker, composed exactly as
/// <c>seccm serve</c> composes it, with its time series written to a temp folder that is deleted afterwards.
/// </summary>
internal sealed class BenchHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _workDir;

    private BenchHost(IHost host, string workDir)
    {
        _host = host;
        _workDir = workDir;
    }

    public static async Task<BenchHost> StartAsync(BenchBroker broker, string instrument, string service, IDictionary<string, string?> settings,
        Action<IServiceCollection>? replace, CancellationToken cancellationToken)
    {
        var workDir = Directory.CreateTempSubdirectory("seccm-bench-").FullName;
        var overrides = new Dictionary<string, string?>(settings)
        {
            ["Instrument"] = instrument,
            ["Mqtt:Host"] = broker.Host,
            ["Mqtt:Port"] = broker.Port.ToString(CultureInfo.InvariantCulture),
            // Nothing of a bench should outlive it on a shared broker.
            ["Mqtt:SessionExpirySeconds"] = "0",
            ["Storage:Directory"] = Path.Combine(workDir, "timeseries"),
            ["Storage:BufferDirectory"] = Path.Combine(workDir, "buffer"),
        };
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(overrides);
        var builder = HostComposer.CreateBuilder(configuration, [service], embeddedBrokerAllowed: false, LogLevel.Warning);
        replace?.Invoke(builder.Services);
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OptionsValidationException ex)
        {
            host.Dispose();
            throw new BenchException($"{service}: invalid settings: {string.Join(" ", ex.Failures)}");
        }
        return new BenchHost(host, workDir);
    }

    public async ValueTask DisposeAsync()
    {
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await _host.StopAsync(stop.Token).ConfigureAwait(false);
        }
        _host.Dispose();
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
