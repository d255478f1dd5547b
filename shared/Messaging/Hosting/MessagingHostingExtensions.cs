using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Seccm.Messaging.Broker;
using Seccm.Messaging.Bus;

namespace Seccm.Messaging.Hosting;

/// <summary>Registers the options, the per-service MQTT connections and the embedded broker.</summary>
public static class MessagingHostingExtensions
{
    /// <summary>Binds and validates <see cref="SeccmOptions"/> (root) and <see cref="MqttOptions"/> (<c>Mqtt</c>).</summary>
    public static IHostApplicationBuilder AddSeccmMessaging(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(sp => new SimulationClock(
            sp.GetRequiredService<TimeProvider>(),
            builder.Configuration.GetValue("Simulation:TimeScale", 1.0)));
        if (builder.Services.Any(d => d.ServiceType == typeof(IConfigureOptions<MqttOptions>)))
        {
            return builder;
        }
        builder.Services.AddOptions<SeccmOptions>().Bind(builder.Configuration).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<MqttOptions>().Bind(builder.Configuration.GetSection("Mqtt"))
            .ValidateDataAnnotations()
            .Validate(o => string.IsNullOrEmpty(o.PasswordFile) || File.Exists(o.PasswordFile), "Mqtt:PasswordFile names a file that does not exist.")
            .Validate(o => string.IsNullOrEmpty(o.CaFile) || File.Exists(o.CaFile), "Mqtt:CaFile names a file that does not exist.")
            .ValidateOnStart();
        return builder;
    }

    /// <summary>
    /// Gives <paramref name="service"/> its own MQTT connection (keyed singleton <see cref="MqttBus"/>, also as
    /// <see cref="IMessageBus"/>, with key <paramref name="service"/>), started before and stopped after the service's own hosted
    /// services, and announced online once they have all started (map command verbs in <c>StartAsync</c>, not later).
    /// </summary>
    public static IHostApplicationBuilder AddServiceBus(this IHostApplicationBuilder builder, string service, string? driver = null)
    {
        builder.AddSeccmMessaging();
        builder.Services.AddKeyedSingleton(service, (sp, _) => new MqttBus(
            service,
            sp.GetRequiredService<IOptions<SeccmOptions>>().Value,
            sp.GetRequiredService<IOptions<MqttOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger($"Seccm.Messaging.{service}"),
            sp.GetRequiredService<TimeProvider>(),
            driver));
        builder.Services.AddKeyedSingleton<IMessageBus>(service, (sp, key) => sp.GetRequiredKeyedService<MqttBus>(key));
        builder.Services.AddSingleton<IHostedService>(sp => new BusLifetime(sp.GetRequiredKeyedService<MqttBus>(service)));
        return builder;
    }

    /// <summary>Starts the in-process broker on <c>Mqtt:Host</c>:<c>Mqtt:Port</c> before anything connects to it.</summary>
    public static IHostApplicationBuilder AddEmbeddedBroker(this IHostApplicationBuilder builder)
    {
        builder.AddSeccmMessaging();
        builder.Services.AddSingleton(sp =>
        {
            var mqtt = sp.GetRequiredService<IOptions<MqttOptions>>().Value;
            var address = IPAddress.TryParse(mqtt.Host, out var ip) ? ip
                : mqtt.Host == "localhost" ? IPAddress.Loopback
                : throw new InvalidOperationException($"The embedded broker needs an IP address for Mqtt:Host, not '{mqtt.Host}'.");
            return new EmbeddedBroker(address, mqtt.Port, sp.GetRequiredService<ILogger<EmbeddedBroker>>());
        });
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(sp => sp.GetRequiredService<EmbeddedBroker>()));
        return builder;
    }

    // Connects at once but announces the service online only when every hosted service has started: services map their
    // command verbs in StartAsync, so a client that waits for 'online' and then sends a command finds it subscribed.
    private sealed class BusLifetime(MqttBus bus) : IHostedLifecycleService
    {
        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartAsync(CancellationToken cancellationToken) => bus.StartAsync(cancellationToken, announceOnline: false);

        public Task StartedAsync(CancellationToken cancellationToken) => bus.AnnounceOnlineAsync(cancellationToken);

        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => bus.StopAsync(TimeSpan.FromSeconds(5));

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
