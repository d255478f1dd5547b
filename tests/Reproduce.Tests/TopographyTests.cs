using Seccm.Contracts.Scan;
using Seccm.Electrochemistry.Samples;
using Seccm.Scan.Recipes;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Host.Reproduce.Tests;

public class TopographyTests(ITestOutputHelper output)
{
    /// <summary>Stage:SimulatedNoiseNmRms default.</summary>
    private const double ZNoiseNmRms = 1;

    [Fact]
    public async Task Simulated_LFP_scan_recovers_the_particle_height_within_one_approach_step_plus_the_Z_noise()
    {
        using var temp = new TempDir();
        const int size = 4;
        // On the particle: the dome's height changes by more than an approach step over the grid (the substrate is
        // covered by the test below).
        const double pitch = 1.2;
        var recipe = RecipeLoader.LoadBuiltIn("lfp-map") with
        {
            Grid = new GridSpec(size, size, pitch),
            Origin = new PointSpec(7.5 - (1.5 * pitch), 7.5 - (1.5 * pitch)),
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
        var report = Describe(scan.Pixels, sample);
        output.WriteLine($"step {check.StepNm} nm: {report}");
        Assert.True(scan.Pixels.All(p => p.Contact && p.ContactZUm is not null), $"every approach must make contact: {report}");
        // The dome's height changes by more than an approach step over the grid.
        var heights = scan.Pixels.Select(p => sample.HeightNm(p.XUm, p.YUm)).ToArray();
        Assert.True(heights.Max() - heights.Min() > check.StepNm, string.Join(", ", heights));
        foreach (var p in scan.Pixels)
        {
            // The contact height is the first reported step at or below surface + meniscus: never above the surface,
            // at most one step below it, plus the stage's Z noise either way.
            Assert.InRange(Error(p, sample), -check.StepNm - (4 * ZNoiseNmRms), 4 * ZNoiseNmRms);
        }
        Assert.True(File.Exists(Path.Combine(temp.Path, "topography.png")), string.Join(", ", Directory.GetFiles(temp.Path)));
    }

    [Fact]
    public async Task Bare_substrate_around_the_LFP_particle_makes_contact_at_4_2_V_and_maps_flat()
    {
        using var temp = new TempDir();
        // Pixels at 1.5, 7.5 and 13.5 um: eight on the bare substrate, the centre on the particle.
        var recipe = RecipeLoader.LoadBuiltIn("lfp-map") with { Grid = new GridSpec(3, 3, 6), Origin = new PointSpec(1.5, 1.5) };
        LabScan scan;
        await using (var lab = await SimulatedLab.StartAsync(temp.Path, "lfp", 1, 55, CancellationToken.None))
        {
            scan = await lab.RunAsync(recipe, waitForExport: false, CancellationToken.None);
        }
        Assert.Equal(ScanState.Completed, scan.State);
        var sample = SampleCatalog.Create("lfp");
        var substrate = scan.Pixels.Where(p => sample.MaterialAt(p.XUm, p.YUm).Couples.Count == 0).ToArray();
        Assert.Equal(8, substrate.Length);
        // Electrolyte oxidation on the bare current collector (~9 pA at 4.2 V) is above the 3 pA threshold.
        Assert.True(substrate.All(p => p.Contact && p.ContactZUm is not null), $"every approach must make contact: {Describe(substrate, sample)}");
        var step = TopographyCheck.Compare(scan.Pixels, sample, recipe.Approach!.SpeedUmPerS).StepNm;
        output.WriteLine($"step {step} nm: {Describe(scan.Pixels, sample)}");
        foreach (var p in scan.Pixels)
        {
            Assert.InRange(Error(p, sample), -step - (4 * ZNoiseNmRms), 4 * ZNoiseNmRms);
        }
    }

    /// <summary>Recorded contact z minus the meniscus minus the simulated height, nm.</summary>
    private static double Error(PixelDoneEvent p, Sample sample) => (p.ContactZUm!.Value * 1000) - TopographyCheck.MeniscusNm - sample.HeightNm(p.XUm, p.YUm);

    private static string Describe(IEnumerable<PixelDoneEvent> pixels, Sample sample) => string.Join("; ", pixels.Select(p =>
        FormattableString.Invariant($"#{p.Index} ({p.XUm}, {p.YUm}) {(p.Contact && p.ContactZUm is not null ? $"error {Error(p, sample):0.#} nm" : "no contact")}")));
}
