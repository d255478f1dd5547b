using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Seccm.Messaging.Hosting;

namespace Seccm.Host.Hosting;

/// <summary>Builds one host running any subset of the five services, the same way on a laptop and in a container.</summary>
internal static class HostComposer
{
    public const string EnvironmentPrefix = "SECCM__";

    /// <summary>appsettings.json (beside the binary, then the working directory), an optional extra file, SECCM__ env, flags.</summary>
    public static ConfigurationManager BuildConfiguration(string? extraFile, IDictionary<string, string?> overrides)
    {
        var configuration = new ConfigurationManager();
        configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true);
        configuration.AddJsonFile(Path.Combine(Environment.CurrentDirectory, "appsettings.json"), optional: true);
        if (extraFile is not null)
        {
            if (!File.Exists(extraFile))
            {
                throw new StartupException($"--config: the file '{extraFile}' does not exist.");
            }
            configuration.AddJsonFile(Path.GetFullPath(extraFile), optional: false);
        }
        configuration.AddEnvironmentVariables(EnvironmentPrefix);
        configuration.AddInMemoryCollection(overrides);
        return configuration;
    }

    /// <summary>True when no broker is configured anywhere: then this process brings its own.</summary>
    public static bool WantsEmbeddedBroker(IConfiguration configuration) => string.IsNullOrWhiteSpace(configuration["Mqtt:Host"]);

    public static HostApplicationBuilder CreateBuilder(IConfiguration configuration, IEnumerable<string> services, bool embeddedBrokerAllowed,
        LogLevel minimumLevel = LogLevel.Information)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = Environment.CurrentDirectory,
        });
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.SetMinimumLevel(minimumLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        if (embeddedBrokerAllowed && WantsEmbeddedBroker(builder.Configuration))
        {
            builder.Configuration["Mqtt:Host"] = "127.0.0.1";
            builder.AddEmbeddedBroker();
        }
        builder.AddSeccmMessaging();
        var names = services.ToArray();
        foreach (var service in names)
        {
            ServiceCatalog.Services[service](builder);
        }
        QueueTelemetry.Register(builder.Services, names);
        return builder;
    }

    /// <summary>Runs a host until Ctrl+C/SIGTERM; turns option validation failures into readable errors (exit 2).</summary>
    public static async Task<int> RunAsync(IHost host, CancellationToken cancellationToken)
    {
        try
        {
            await host.RunAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"seccm: invalid configuration: {string.Join(" ", ex.Failures)}").ConfigureAwait(false);
            return 2;
        }
        catch (StartupException ex)
        {
            await Console.Error.WriteLineAsync($"seccm: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("embedded MQTT broker", StringComparison.Ordinal))
        {
            await Console.Error.WriteLineAsync($"seccm: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}

/// <summary>A problem with how seccm was started: bad flag, missing file. Printed without a stack trace.</summary>
internal sealed class StartupException(string message) : Exception(message);
