using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Seccm.Storage.Sink;

namespace Seccm.Storage;

/// <summary>Hosting registration of the time-series sink.</summary>
public static class StorageHostingExtensions
{
    /// <summary>
    /// Binds and validates the "Storage" section (at start), registers <see cref="ITimeSeriesSink"/> as a
    /// singleton and a hosted service that runs its flush loop and, on shutdown, flushes or persists
    /// everything. Call it before the services that write, so it stops after them. Safe to call twice.
    /// </summary>
    public static IHostApplicationBuilder AddSeccmStorage(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(BufferedSink)))
        {
            return builder;
        }
        builder.Services.AddOptions<StorageOptions>()
            .Bind(builder.Configuration.GetSection(StorageOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => StorageFactory.CreateSink(
            sp.GetRequiredService<IOptions<StorageOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Seccm.Storage")));
        builder.Services.AddSingleton<ITimeSeriesSink>(sp => sp.GetRequiredService<BufferedSink>());
        builder.Services.AddHostedService<StorageHostedService>();
        return builder;
    }
}

/// <summary>Starts the sink's flush loop (backlog first) and gives it a graceful stop.</summary>
internal sealed class StorageHostedService(BufferedSink sink) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        sink.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => sink.StopAsync(cancellationToken);
}
