using System.CommandLine;
using System.Globalization;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Host.Hosting;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Scan.Recipes;
using Spectre.Console;

namespace Seccm.Host.Verbs;

/// <summary><c>seccm scan start RECIPE | pause | resume | abort | status</c>: a thin client of the scan service.</summary>
internal static class ScanClientVerbs
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    public static void AddTo(Command scan)
    {
        var recipeArgument = new Argument<string>("recipe") { Description = "Recipe file (YAML or JSON) or a built-in recipe name: " + string.Join(", ", RecipeLoader.BuiltInNames) };
        var scanIdOption = new Option<string?>("--scan-id") { Description = "Scan id (default: recipe name and time)" };
        var detach = new Option<bool>("--detach") { Description = "Return once the scan has started instead of following it" };
        var start = Client("start", "Start a scan from a recipe and follow its progress", async (bus, parse, ct) =>
        {
            var recipe = RecipeLoader.LoadFileOrBuiltIn(parse.GetValue(recipeArgument)!);
            var result = await bus.CallAsync<StartScanCommand, ScanStatusResult>(ServiceNames.Scan, "start",
                new StartScanCommand(recipe, parse.GetValue(scanIdOption)), ReplyTimeout, ct).ConfigureAwait(false);
            Console.WriteLine(result.Message);
            if (parse.GetValue(detach) || result.Progress is null)
            {
                return 0;
            }
            var final = await FollowAsync(bus, result.Progress.ScanId, ct).ConfigureAwait(false);
            return final?.State == ScanState.Completed ? 0 : 1;
        }, recipeArgument, scanIdOption, detach);
        scan.Subcommands.Add(start);
        scan.Subcommands.Add(Simple("pause", "Pause the running scan at the next safe point (pipette retracted)"));
        scan.Subcommands.Add(Simple("resume", "Resume a paused scan"));
        scan.Subcommands.Add(Simple("abort", "Abort the running scan (pipette retracted, pump back on)"));
        scan.Subcommands.Add(Simple("status", "Show the scan's state and progress"));
    }

    private static Command Simple(string verb, string description) =>
        Client(verb, description, async (bus, _, ct) =>
        {
            var result = await bus.CallAsync<EmptyCommand, ScanStatusResult>(ServiceNames.Scan, verb, new EmptyCommand(), ReplyTimeout, ct)
                .ConfigureAwait(false);
            Console.WriteLine(result.Message);
            if (result.Progress is { } p)
            {
                Console.WriteLine(Describe(p));
            }
            return 0;
        });

    private static Command Client(string name, string description, Func<MqttBus, ParseResult, CancellationToken, Task<int>> action,
        params Symbol[] symbols)
    {
        var common = new CommonOptions();
        var command = new Command(name, description);
        common.AddTo(command);
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Argument a:
                    command.Arguments.Add(a);
                    break;
                case Option o:
                    command.Options.Add(o);
                    break;
            }
        }
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                var configuration = HostComposer.BuildConfiguration(parse.GetValue(common.Config), common.ToOverrides(parse));
                await using var bus = await ClientBus.ConnectAsync(configuration, TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
                return await action(bus, parse, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RecipeException or StartupException or CommandException or TimeoutException or PayloadException)
            {
                await Console.Error.WriteLineAsync($"seccm scan {name}: {ex.Message}").ConfigureAwait(false);
                return 2;
            }
        });
        return command;
    }

    /// <summary>
    /// Follows the retained progress until the scan ends; a progress bar on a terminal, lines otherwise. A progress
    /// message that does not read as its contract is said on <paramref name="errors"/> (standard error) and skipped.
    /// </summary>
    public static async Task<ScanProgress?> FollowAsync(MqttBus bus, string scanId, CancellationToken cancellationToken, TextWriter? errors = null)
    {
        errors ??= Console.Error;
        ScanProgress? latest = null;
        var finished = new TaskCompletionSource<ScanProgress>(TaskCreationOptions.RunContinuationsAsynchronously);
        await bus.SubscribeAsync(ScanTopics.ProgressTopic(bus.Instrument), (m, _) =>
        {
            ScanProgress p;
            try
            {
                p = SeccmJson.DeserializeValid<ScanProgress>(m.Payload.Span, m.Topic);
            }
            catch (PayloadException ex)
            {
                // Said and skipped: the next progress message (or the scan's end) still comes.
                errors.WriteLine($"seccm scan: ignored a progress message: {ex.Message}");
                return Task.CompletedTask;
            }
            if (p.ScanId == scanId)
            {
                latest = p;
                if (!p.IsActive)
                {
                    finished.TrySetResult(p);
                }
            }
            return Task.CompletedTask;
        }).ConfigureAwait(false);

        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected)
        {
            var lastReported = -1;
            while (!finished.Task.IsCompleted)
            {
                await Task.WhenAny(finished.Task, Task.Delay(TimeSpan.FromSeconds(2), TimeProvider.System, cancellationToken)).ConfigureAwait(false);
                if (latest is { } p && p.PixelsDone != lastReported)
                {
                    lastReported = p.PixelsDone;
                    Console.WriteLine(Describe(p));
                }
            }
            return await finished.Task.ConfigureAwait(false);
        }
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask($"scan {scanId}", maxValue: 1);
                while (!finished.Task.IsCompleted)
                {
                    await Task.WhenAny(finished.Task, Task.Delay(TimeSpan.FromMilliseconds(250), TimeProvider.System, cancellationToken)).ConfigureAwait(false);
                    if (latest is { } p)
                    {
                        task.MaxValue = Math.Max(1, p.PixelsTotal);
                        task.Value = p.PixelsDone;
                        task.Description = Markup.Escape(ShortDescription(p));
                    }
                }
                task.Value = task.MaxValue;
            }).ConfigureAwait(false);
        var final = await finished.Task.ConfigureAwait(false);
        Console.WriteLine(Describe(final));
        return final;
    }

    public static string Describe(ScanProgress p)
    {
        var c = CultureInfo.InvariantCulture;
        var text = $"{p.ScanId}: {p.State.ToString().ToLowerInvariant()} {p.PixelsDone}/{p.PixelsTotal} pixels";
        if (p.PixelsWithoutContact > 0)
        {
            text += $" ({p.PixelsWithoutContact} without contact)";
        }
        if (p.EtaS is { } eta && p.IsActive)
        {
            text += $", ETA {TimeSpan.FromSeconds(Math.Round(eta)).ToString("g", c)}";
        }
        if (p.LastDCm2PerS is { } d)
        {
            text += $", last D {d.ToString("0.00e+00", c)} cm^2/s";
        }
        if (p.PauseReason is { } r)
        {
            text += $", paused: {r}";
        }
        return text;
    }

    private static string ShortDescription(ScanProgress p)
    {
        var text = $"{p.State.ToString().ToLowerInvariant()} {p.PixelsDone}/{p.PixelsTotal}";
        if (p.LastDCm2PerS is { } d)
        {
            text += $" D {d.ToString("0.00e+00", CultureInfo.InvariantCulture)}";
        }
        return p.PauseReason is { } r ? text + $" ({r})" : text;
    }
}
