using System.CommandLine;
using Seccm.Host.Hosting;
using Seccm.Host.Reproduce;
using Seccm.Messaging.Commands;
using Seccm.Scan.Recipes;

namespace Seccm.Host.Verbs;

/// <summary>
/// <c>seccm-reproduce fig2a|fig2b|fig2c|fig2d|fig3|fig4|all</c>: the published figures on the simulated instrument,
/// each with its PNGs and a numbers.json of ours against the paper's; <c>all</c> adds report.md.
/// </summary>
internal static class ReproduceVerb
{
    public static RootCommand Create()
    {
        var figure = new Argument<string>("figure") { Description = $"Which figure: {string.Join(", ", PaperFigures.Names)} or all" };
        var outDir = new Option<string>("--out") { Description = "Where the figures and numbers go", DefaultValueFactory = _ => "seccm-reproduce" };
        var size = new Option<int>("--size") { Description = "Pixels per side of the maps (fig3, fig4)", DefaultValueFactory = _ => 6 };
        var seed = new Option<int>("--seed") { Description = "Seed of the simulated samples and noise", DefaultValueFactory = _ => 1 };
        var command = new RootCommand("seccm-reproduce: reproduce a published figure (or all) on the simulated instrument: PNGs, numbers.json (ours vs the paper's), report.md");
        command.Arguments.Add(figure);
        command.Options.Add(outDir);
        command.Options.Add(size);
        command.Options.Add(seed);
        command.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(figure)!;
            var n = parse.GetValue(size);
            // Bad input is a usage error (exit 2) found before anything is written.
            if (name != "all" && !PaperFigures.Names.Contains(name))
            {
                await Console.Error.WriteLineAsync($"seccm-reproduce: figure '{name}' is unknown: use one of {string.Join(", ", PaperFigures.Names)} or all.").ConfigureAwait(false);
                return 2;
            }
            if (n is < 2 or > 128)
            {
                await Console.Error.WriteLineAsync($"seccm-reproduce: --size must be between 2 and 128 pixels per side, not {n}.").ConfigureAwait(false);
                return 2;
            }
            try
            {
                return await RunAsync(parse.GetValue(figure)!, parse.GetValue(outDir)!, parse.GetValue(size), parse.GetValue(seed), ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RecipeException or StartupException or CommandException or TimeoutException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"seccm-reproduce: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(string figure, string outDir, int size, int seed, CancellationToken cancellationToken)
    {
        var output = Path.GetFullPath(outDir);
        Directory.CreateDirectory(output);
        var names = figure == "all" ? PaperFigures.Names : [figure];
        var results = new List<FigureResult>();
        foreach (var name in names)
        {
            var result = await PaperFigures.RunAsync(name, output, size, seed, cancellationToken).ConfigureAwait(false);
            results.Add(result);
            NumbersReport.WriteJson(Path.Combine(output, name, "numbers.json"), [result]);
            Console.WriteLine($"seccm-reproduce: {name} in {result.Seconds:0.0} s");
            foreach (var n in result.Numbers)
            {
                Console.WriteLine($"  {n.Quantity}: ours {n.Ours:G4} {n.Unit}, paper {(n.Paper is { } p ? p.ToString("G4", System.Globalization.CultureInfo.InvariantCulture) : "-")}, ratio {(n.Ratio is { } q ? q.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) : "-")}");
            }
        }
        if (figure == "all")
        {
            NumbersReport.WriteJson(Path.Combine(output, "numbers.json"), results);
            NumbersReport.WriteMarkdown(Path.Combine(output, "report.md"), results);
        }
        Console.WriteLine($"seccm-reproduce: wrote {output}");
        return 0;
    }
}
