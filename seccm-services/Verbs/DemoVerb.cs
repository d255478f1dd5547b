using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Seccm.Contracts.Diffusion;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Host.Hosting;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Scan.Recipes;

namespace Seccm.Host.Verbs;

/// <summary>
/// <c>seccm demo</c>: the whole instrument on the simulator, in one process and through the real message path:
/// an embedded broker, the five services, an accelerated simulated world, an LTO D-map scan, and the diffusion
/// service's map files in the output directory.
/// </summary>
internal static class DemoVerb
{
    public const double DefaultTimeScale = 10000;

    public static Command Create()
    {
        var outDir = new Option<string>("--out") { Description = "Where the maps and data go", DefaultValueFactory = _ => "seccm-demo" };
        var size = new Option<int>("--size") { Description = "Pixels per side of the 5 x 5 um map", DefaultValueFactory = _ => 32 };
        var recipeOption = new Option<string?>("--recipe") { Description = "Another recipe (file or built-in name) instead of the LTO D map" };
        var verbose = new Option<bool>("--verbose") { Description = "Log what every service does" };
        var seed = new Option<int>("--seed") { Description = "Seed of the simulated sample and noise", DefaultValueFactory = _ => 1 };
        var common = new CommonOptions();
        var command = new Command("demo", "Run a complete simulated LTO scan end to end and write its maps (PNG, CSV, GSF, HDF5)");
        command.Options.Add(outDir);
        command.Options.Add(size);
        command.Options.Add(recipeOption);
        command.Options.Add(seed);
        command.Options.Add(verbose);
        common.AddTo(command);
        size.Validators.Add(r =>
        {
            var n = r.GetValueOrDefault<int>();
            if (n is < 2 or > 256)
            {
                r.AddError($"--size must be between 2 and 256, not {n}.");
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                return await RunAsync(parse.GetValue(outDir)!, parse.GetValue(size), parse.GetValue(recipeOption), parse.GetValue(seed),
                    parse.GetValue(verbose), common, parse, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RecipeException or StartupException or CommandException or TimeoutException or PayloadException)
            {
                await Console.Error.WriteLineAsync($"seccm demo: {ex.Message}").ConfigureAwait(false);
                return 2;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(string outDir, int size, string? recipeName, int seed, bool verbose, CommonOptions common, ParseResult parse,
        CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var output = Path.GetFullPath(outDir);
        Directory.CreateDirectory(output);
        var recipe = recipeName is null ? DemoRecipe(size) : RecipeLoader.LoadFileOrBuiltIn(recipeName);
        var overrides = common.ToOverrides(parse);
        var defaults = new Dictionary<string, string?>
        {
            ["Simulation:TimeScale"] = DefaultTimeScale.ToString(CultureInfo.InvariantCulture),
            ["Potentiostat:Sample"] = recipe.Sample ?? "lto",
            ["Potentiostat:SampleSeed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["Potentiostat:Seed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["Scan:StateDirectory"] = Path.Combine(output, "state"),
            ["Potentiostat:DataDirectory"] = Path.Combine(output, "raw-curves"),
            ["Diffusion:OutputDirectory"] = output,
            ["Diffusion:FlatOutput"] = "true",
            ["Storage:Directory"] = Path.Combine(output, "timeseries"),
            ["Storage:BufferDirectory"] = Path.Combine(output, "storage-buffer"),
        };
        var configuration = HostComposer.BuildConfiguration(parse.GetValue(common.Config), overrides);
        foreach (var (key, value) in defaults)
        {
            if (string.IsNullOrEmpty(configuration[key]))
            {
                configuration[key] = value;
            }
        }
        if (HostComposer.WantsEmbeddedBroker(configuration) && !overrides.ContainsKey("Mqtt:Port"))
        {
            // The demo owns its broker: a free port, so it never collides with a broker already on 1883.
            configuration["Mqtt:Port"] = FreeLoopbackPort().ToString(CultureInfo.InvariantCulture);
        }
        // A fresh state and raw-curve directory: the demo never resumes someone else's scan, nor replays its curves.
        foreach (var key in new[] { "Scan:StateDirectory", "Potentiostat:DataDirectory" })
        {
            if (Directory.Exists(configuration[key]!))
            {
                Directory.Delete(configuration[key]!, recursive: true);
            }
        }

        using var host = HostComposer.CreateBuilder(configuration, ServiceNames.All, embeddedBrokerAllowed: true, verbose ? LogLevel.Information : LogLevel.Warning).Build();
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var bus = await ClientBus.ConnectAsync(configuration, TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false);
            var exported = new TaskCompletionSource<DiffusionExportedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            await bus.SubscribeAsync(DiffusionTopics.ExportedTopic(bus.Instrument), (m, _) =>
            {
                try
                {
                    exported.TrySetResult(SeccmJson.DeserializeValid<DiffusionExportedEvent>(m.Payload.Span, m.Topic));
                }
                catch (PayloadException ex)
                {
                    exported.TrySetException(ex);
                }
                return Task.CompletedTask;
            }).ConfigureAwait(false);

            await ClientBus.WaitOnlineAsync(bus, ServiceNames.Scan, StartupGuard, cancellationToken).ConfigureAwait(false);
            var start = await StartWhenReadyAsync(bus, recipe, cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"seccm demo: {start.Message} ({recipe.Description ?? recipe.Name})");
            var final = await ScanClientVerbs.FollowAsync(bus, start.Progress!.ScanId, cancellationToken).ConfigureAwait(false);
            var files = await exported.Task.WaitAsync(TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"seccm demo: scan {final?.State.ToString().ToLowerInvariant()} in {stopwatch.Elapsed.TotalSeconds:0.0} s; maps in {output}");
            foreach (var file in files.Files)
            {
                Console.WriteLine($"  {file}");
            }
            Console.WriteLine($"  summary: {SeccmJson.SerializeToString(files.Summary)}");
            return final?.State == ScanState.Completed ? 0 : 1;
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await host.StopAsync(stop.Token).ConfigureAwait(false);
        }
    }

    /// <summary>The LTO D-map demo recipe, resized to <paramref name="size"/> x <paramref name="size"/> over 5 x 5 um.</summary>
    public static Recipe DemoRecipe(int size)
    {
        var recipe = RecipeLoader.LoadBuiltIn("lto-demo");
        return recipe with
        {
            Grid = new GridSpec(size, size, 5.0 / size),
            Description = $"LTO D map, {size} x {size} over 5 x 5 um, CVs at 1.25-20 V/s",
        };
    }

    /// <summary>How long the services of a just-started host may take to come online: a hang guard, not an expectation (seconds on a loaded machine).</summary>
    internal static readonly TimeSpan StartupGuard = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Starts <paramref name="recipe"/> on a scan service that is online (<see cref="ClientBus.WaitOnlineAsync"/> first):
    /// while the other services come online and the glovebox reports a safe atmosphere the scan refuses, and the start is
    /// asked again.
    /// </summary>
    internal static async Task<ScanStatusResult> StartWhenReadyAsync(MqttBus bus, Recipe recipe, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await bus.CallAsync<StartScanCommand, ScanStatusResult>(ServiceNames.Scan, "start", new StartScanCommand(recipe),
                    TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            }
            catch (CommandFailedException ex) when (ex.Code == ErrorCodes.Refused && deadline.Elapsed < StartupGuard)
            {
                // Services are still coming online (the interlock refuses until all are up and the glovebox is safe).
                await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    internal static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
