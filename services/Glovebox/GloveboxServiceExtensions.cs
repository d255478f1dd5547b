using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Seccm.Contracts.Topics;
using Seccm.Devices.Serial;
using Seccm.Glovebox.Sensors;
using Seccm.Glovebox.Simulation;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.Storage;

namespace Seccm.Glovebox;

/// <summary>Registers the glovebox service.</summary>
public static class GloveboxServiceExtensions
{
    /// <summary>
    /// Adds the glovebox service: O2 and H2O sensors and the pump relay chosen by the <c>Glovebox</c> section
    /// (simulated by default), alarms and safeToScan, commands pump/simulate/status, telemetry every poll, and the
    /// <c>glovebox</c> and <c>alarm</c> time series through the shared storage sink.
    /// </summary>
    public static IHostApplicationBuilder AddGloveboxService(this IHostApplicationBuilder builder) => builder.AddGloveboxService(null, null);

    /// <summary>As <see cref="AddGloveboxService(IHostApplicationBuilder)"/> with a given simulation or serial-port opener (tests).</summary>
    internal static IHostApplicationBuilder AddGloveboxService(this IHostApplicationBuilder builder,
        Func<IServiceProvider, GloveboxSimulation>? simulation, Func<string, SerialLineSettings, ISerialLine>? openPort)
    {
        builder.Services.AddOptions<GloveboxOptions>().Bind(builder.Configuration.GetSection(GloveboxOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.AddSeccmStorage();
        builder.AddServiceBus(ServiceNames.Glovebox, builder.Configuration[$"{GloveboxOptions.Section}:Oxygen:0:Driver"] ?? DeviceOptions.Simulated);
        builder.Services.AddHostedService(sp =>
        {
            var options = sp.GetRequiredService<IOptions<GloveboxOptions>>().Value;
            var world = simulation?.Invoke(sp) ?? new GloveboxSimulation(sp.GetRequiredService<SimulationClock>().Time, new GloveboxSimulationOptions
            {
                Seed = options.SimulatedSeed,
                BaselineO2Ppm = options.SimulatedO2Ppm,
                BaselineDewPointC = options.SimulatedDewPointC,
            });
            return new GloveboxWorker(
                sp.GetRequiredKeyedService<IMessageBus>(ServiceNames.Glovebox),
                options,
                world,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ITimeSeriesSink>(),
                sp.GetRequiredService<ILogger<GloveboxWorker>>(),
                openPort);
        });
        return builder;
    }
}
