using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.Potentiostat.Drivers;
using Seccm.Potentiostat.Recording;
using Seccm.Storage;

namespace Seccm.Potentiostat;

/// <summary>Registers the potentiostat service.</summary>
public static class PotentiostatServiceExtensions
{
    /// <summary>
    /// Adds the potentiostat service: its MQTT connection, the driver chosen by <c>Potentiostat:Driver</c>
    /// (simulated | methodscript), the commands cv/hold/cp/abort/cell/replay, curve data (kept in raw-data files), contact events and current telemetry.
    /// </summary>
    public static IHostApplicationBuilder AddPotentiostatService(this IHostApplicationBuilder builder) =>
        builder.AddPotentiostatService(null);

    /// <summary>As <see cref="AddPotentiostatService(IHostApplicationBuilder)"/> with a given driver (tests, the demo).</summary>
    internal static IHostApplicationBuilder AddPotentiostatService(this IHostApplicationBuilder builder,
        Func<IServiceProvider, IPipettePositionSource, IPotentiostat>? driver)
    {
        builder.Services.AddOptions<PotentiostatOptions>().Bind(builder.Configuration.GetSection(PotentiostatOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.AddSeccmStorage();
        builder.AddServiceBus(ServiceNames.Potentiostat, builder.Configuration[$"{PotentiostatOptions.Section}:Driver"] ?? PotentiostatOptions.Simulated);
        builder.Services.AddHostedService(sp =>
        {
            var options = sp.GetRequiredService<IOptions<PotentiostatOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            var position = new PipettePositionTracker();
            var bus = sp.GetRequiredKeyedService<IMessageBus>(ServiceNames.Potentiostat);
            return new PotentiostatWorker(
                bus,
                driver is null
                    ? () => PotentiostatDriverFactory.Create(options, position, time, sp.GetRequiredService<SimulationClock>().Time)
                    : () => driver(sp, position),
                position, options, time,
                sp.GetRequiredService<ITimeSeriesSink>(),
                new CurveRecorder(Path.Combine(options.DataDirectory, bus.Instrument)),
                sp.GetRequiredService<ILogger<PotentiostatWorker>>());
        });
        return builder;
    }
}
