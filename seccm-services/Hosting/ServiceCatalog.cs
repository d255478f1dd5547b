using Microsoft.Extensions.Hosting;
using Seccm.Contracts.Topics;
using Seccm.Diffusion;
using Seccm.Glovebox;
using Seccm.Potentiostat;
using Seccm.Scan;
using Seccm.Stage;

namespace Seccm.Host.Hosting;

/// <summary>The table of contents: which extension adds which service.</summary>
internal static class ServiceCatalog
{
    public static IReadOnlyDictionary<string, Action<IHostApplicationBuilder>> Services { get; } =
        new Dictionary<string, Action<IHostApplicationBuilder>>
        {
            [ServiceNames.Glovebox] = b => b.AddGloveboxService(),
            [ServiceNames.Stage] = b => b.AddStageService(),
            [ServiceNames.Potentiostat] = b => b.AddPotentiostatService(),
            [ServiceNames.Diffusion] = b => b.AddDiffusionService(),
            [ServiceNames.Scan] = b => b.AddScanService(),
        };
}
