using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.Scan.Checkpoints;
using Seccm.Scan.Interlocks;
using Seccm.Scan.Orchestration;
using Seccm.Storage;

namespace Seccm.Scan;

/// <summary>Registers the scan service.</summary>
public static class ScanServiceExtensions
{
    /// <summary>Adds the scan orchestration service: recipes, interlocks, checkpoints and the per-pixel loop over MQTT.</summary>
    public static IHostApplicationBuilder AddScanService(this IHostApplicationBuilder builder)
    {
        builder.AddSeccmStorage();
        builder.AddServiceBus(ServiceNames.Scan);
        builder.Services.AddOptions<ScanOptions>().Bind(builder.Configuration.GetSection(ScanOptions.SectionName))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService(sp =>
        {
            var bus = sp.GetRequiredKeyedService<IMessageBus>(ServiceNames.Scan);
            var options = sp.GetRequiredService<IOptions<ScanOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            var store = new CheckpointStore(Path.Combine(options.StateDirectory, bus.Instrument));
            var sink = sp.GetRequiredService<ITimeSeriesSink>();
            var statusRecorder = new StatusRecorder(sink, bus.Instrument, time);
            var interlocks = new InterlockMonitor(statusRecorder, sp.GetRequiredService<ILogger<InterlockMonitor>>());
            var runner = new ScanRunner(
                new MqttScanInstrument(bus, sp.GetRequiredService<SimulationClock>(), options, sp.GetRequiredService<ILoggerFactory>().CreateLogger<MqttScanInstrument>()),
                interlocks,
                new MqttScanEvents(bus, sink),
                store,
                time,
                sp.GetRequiredService<ILogger<ScanRunner>>());
            return new ScanWorker(bus, runner, interlocks, store, options, time, sp.GetRequiredService<ILogger<ScanWorker>>(), statusRecorder);
        });
        return builder;
    }
}
