using System.CommandLine;
using Seccm.Host.Verbs;

var root = new RootCommand("seccm: scanning electrochemical cell microscopy services (stage, potentiostat, scan, diffusion, glovebox)");
foreach (var verb in ServeVerbs.Create())
{
    root.Subcommands.Add(verb);
}
root.Subcommands.Add(DemoVerb.Create());
root.Subcommands.Add(SimulateVerb.Create());
root.Subcommands.Add(AnalyzeVerb.Create());
root.Subcommands.Add(ReplayVerb.Create());

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
