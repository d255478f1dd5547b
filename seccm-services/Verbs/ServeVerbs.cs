using System.CommandLine;
using Seccm.Contracts.Topics;
using Seccm.Host.Hosting;

namespace Seccm.Host.Verbs;

/// <summary><c>seccm all</c> and one verb per service: run services until stopped.</summary>
internal static class ServeVerbs
{
    public static IEnumerable<Command> Create()
    {
        yield return Serve("all", "Run all five services in one process (embedded broker when no Mqtt:Host is configured)",
            ServiceNames.All, embeddedBrokerAllowed: true);
        foreach (var service in ServiceNames.All)
        {
            var command = Serve(service, $"Run the {service} service", [service], embeddedBrokerAllowed: false);
            if (service == ServiceNames.Scan)
            {
                ScanClientVerbs.AddTo(command);
            }
            yield return command;
        }
    }

    private static Command Serve(string name, string description, IReadOnlyList<string> services, bool embeddedBrokerAllowed)
    {
        var common = new CommonOptions();
        var command = new Command(name, description);
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var configuration = HostComposer.BuildConfiguration(parse.GetValue(common.Config), common.ToOverrides(parse));
                using var host = HostComposer.CreateBuilder(configuration, services, embeddedBrokerAllowed).Build();
                return await HostComposer.RunAsync(host, cancellationToken).ConfigureAwait(false);
            }
            catch (StartupException ex)
            {
                await Console.Error.WriteLineAsync($"seccm {name}: {ex.Message}").ConfigureAwait(false);
                return 2;
            }
        });
        return command;
    }
}
