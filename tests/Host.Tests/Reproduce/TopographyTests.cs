using Seccm.Contracts.Scan;
using Seccm.Electrochemistry.Samples;
using Seccm.Host.Reproduce;
using Seccm.Host.Tests.Infrastructure;
using Seccm.Scan.Recipes;

namespace Seccm.Host.Tests.Reproduce;

public class TopographyTests
{
    /// <summary>Stage:SimulatedNoiseNmRms default.</summary>
    private const double ZNoiseNmRms = 1;

    [Fact]
    public async Task Simulated_LFP_scan_recovers_the_particle_height_within_one_approach_step_plus_the_Z_noise()
    {
        using var temp = new TempDir();
        const int size = 4;
        var pitch = 15.0 / size;
        var recipe = RecipeLoader.LoadBuiltIn("lfp-map") with
        {
            Grid = new GridSpec(size, size, pitch),
            Origin = new PointSpec(pitch / 2, pitch / 2),
        };
        LabScan scan;
        await using (var lab = await SimulatedLab.StartAsync(temp.Path, "lfp", 1, 55, CancellationToken.None))
        {
            scan = await lab.RunAsync(recipe, waitForExport: true, CancellationToken.None);
        }
        Assert.Equal(ScanState.Completed, scan.State);
        Assert.Equal(size * size, scan.Pixels.Count);
        var sample = SampleCatalog.Create("lfp");
        var check = TopographyCheck.Compare(scan.Pixels, sample, recipe.Approach!.SpeedUmPerS);
        Assert.Equal(size * size, check.Pixels);
        // Some pixels sit on the 1.5 um particle, some on the flat substrate: the heights differ by micrometres.
        Assert.True(scan.Pixels.Max(p => sample.HeightNm(p.XUm, p.YUm)) > 1000);
        foreach (var p in scan.Pixels)
        {
            var error = (p.ContactZUm!.Value * 1000) - TopographyCheck.MeniscusNm - sample.HeightNm(p.XUm, p.YUm);
            // The approach stops at the first step at or below the meniscus: never above it, at most one step below.
            Assert.InRange(error, -check.StepNm - (4 * ZNoiseNmRms), 4 * ZNoiseNmRms);
        }
        Assert.True(File.Exists(Path.Combine(temp.Path, "topography.png")), string.Join(", ", Directory.GetFiles(temp.Path)));
    }
}
