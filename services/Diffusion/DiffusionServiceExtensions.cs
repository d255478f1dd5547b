using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.Storage;

namespace Seccm.Diffusion;

/// <summary>Registers the diffusion service.</summary>
public static class DiffusionServiceExtensions
{
    /// <summary>
    /// Adds the diffusion service: rebuilds every pixel's curves from the potentiostat's chunks, analyses the pixels whose
    /// done events this worker receives (shared subscription: run several workers with distinct <c>WorkerId</c>s), publishes
    /// pixel results and map updates, writes <c>pixel_result</c> and <c>cv_peak</c> time series and exports the map files
    /// at scan end or on <c>cmd/export</c>.
    /// </summary>
    public static IHostApplicationBuilder AddDiffusionService(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DiffusionOptions>().Bind(builder.Configuration.GetSection(DiffusionOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.AddSeccmStorage();
        builder.AddServiceBus(ServiceNames.Diffusion);
        builder.Services.AddHostedService(sp => new DiffusionWorker(
            sp.GetRequiredKeyedService<IMessageBus>(ServiceNames.Diffusion),
            sp.GetRequiredService<IOptions<DiffusionOptions>>().Value,
            sp.GetRequiredService<ITimeSeriesSink>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<DiffusionWorker>>()));
        return builder;
    }
}
