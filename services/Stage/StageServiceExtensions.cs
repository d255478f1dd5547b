using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.Stage.Drivers;
using Seccm.Storage;

namespace Seccm.Stage;

/// <summary>Registers the stage service.</summary>
public static class StageServiceExtensions
{
    /// <summary>
    /// Adds the stage service: its MQTT connection, the driver chosen by <c>Stage:Driver</c> (simulated | pi-gcs),
    /// the commands move/retract/approach/stop/home, position telemetry and the <c>stage</c> time series.
    /// </summary>
    public static IHostApplicationBuilder AddStageService(this IHostApplicationBuilder builder) =>
        builder.AddStageService(null);

    /// <summary>As <see cref="AddStageService(IHostApplicationBuilder)"/> with a given driver (tests, the demo's shared simulated world).</summary>
    internal static IHostApplicationBuilder AddStageService(this IHostApplicationBuilder builder, Func<IServiceProvider, IStage>? driver)
    {
        builder.Services.AddOptions<StageOptions>().Bind(builder.Configuration.GetSection(StageOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.AddSeccmStorage();
        builder.AddServiceBus(ServiceNames.Stage, builder.Configuration[$"{StageOptions.Section}:Driver"] ?? StageOptions.Simulated);
        builder.Services.AddHostedService(sp => new StageWorker(
            sp.GetRequiredKeyedService<IMessageBus>(ServiceNames.Stage),
            driver is null
                // The simulated piezo lives in the simulated world's (possibly accelerated) time.
                ? () => StageDriverFactory.Create(sp.GetRequiredService<IOptions<StageOptions>>().Value, sp.GetRequiredService<SimulationClock>().Time)
                : () => driver(sp),
            sp.GetRequiredService<IOptions<StageOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ITimeSeriesSink>(),
            sp.GetRequiredService<ILogger<StageWorker>>(),
            sp.GetRequiredService<SimulationClock>()));
        return builder;
    }
}
