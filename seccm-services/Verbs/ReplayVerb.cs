using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Seccm.Host.Hosting;
using Seccm.Storage;

namespace Seccm.Host.Verbs;

/// <summary><c>seccm replay --dir DIR</c>: loads line-protocol files (files backend output, quarantine) into the configured database.</summary>
internal static class ReplayVerb
{
    public static Command Create()
    {
        var dir = new Option<DirectoryInfo>("--dir")
        {
            Description = "Folder of *.lp line-protocol files (sub-folders included), e.g. ./seccm-data/timeseries",
            Required = true,
        };
        var config = new Option<string?>("--config") { Description = "An extra appsettings JSON file" };
        var command = new Command("replay", "Replay line-protocol files into the database configured under Storage (Kind influxdb1 or influxdb2)");
        command.Options.Add(dir);
        command.Options.Add(config);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var directory = parse.GetValue(dir)!;
            StorageOptions options;
            try
            {
                var configuration = HostComposer.BuildConfiguration(parse.GetValue(config), new Dictionary<string, string?>());
                options = configuration.GetSection(StorageOptions.SectionName).Get<StorageOptions>() ?? new StorageOptions();
            }
            catch (Exception ex) when (ex is StartupException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"seccm replay: {ex.Message}").ConfigureAwait(false);
                return 2;
            }
            var errors = options.Validate();
            if (errors.Count > 0)
            {
                await Console.Error.WriteLineAsync("seccm replay: " + string.Join(Environment.NewLine + "  ", errors)).ConfigureAwait(false);
                return 2;
            }
            using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            try
            {
                var report = await TimeSeriesReplay.ReplayDirectoryAsync(directory.FullName, options, TimeProvider.System,
                    loggers.CreateLogger("replay"), cancellationToken: cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"seccm replay: {report.PointsWritten} points from {report.Files} files written; {report.PointsRejected} rejected.");
                foreach (var error in report.Errors)
                {
                    await Console.Error.WriteLineAsync($"  rejected: {error}").ConfigureAwait(false);
                }
                return report.PointsRejected == 0 ? 0 : 1;
            }
            catch (Exception ex) when (ex is InvalidOperationException or DirectoryNotFoundException)
            {
                await Console.Error.WriteLineAsync($"seccm replay: {ex.Message}").ConfigureAwait(false);
                return 2;
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"seccm replay: {ex.Message}").ConfigureAwait(false);
                return 3;
            }
        });
        return command;
    }
}
