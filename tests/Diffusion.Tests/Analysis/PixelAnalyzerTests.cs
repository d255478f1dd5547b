using Seccm.Contracts.Scan;
using Seccm.Diffusion.Analysis;
using Seccm.Curves;

namespace Seccm.Diffusion.Tests.Analysis;

public class PixelAnalyzerTests
{
    private static readonly PixelDoneEvent Touched = new("s", 3, 1, 2, 1.5, 2.5, true, 0.75, DateTimeOffset.UnixEpoch);

    [Fact]
    public void The_services_resistance_option_reaches_the_analysis_and_a_negative_one_is_refused()
    {
        Assert.Equal(250, PixelAnalyzer.Settings(null, 0, 250).UncompensatedResistanceOhm);
        Assert.Null(PixelAnalyzer.Settings(null).UncompensatedResistanceOhm);
        var options = new DiffusionOptions { UncompensatedResistanceOhm = -1 };
        var problems = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        Assert.False(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), problems, validateAllProperties: true));
        Assert.Contains(problems, p => p.ErrorMessage!.Contains("Diffusion:UncompensatedResistanceOhm", StringComparison.Ordinal));
    }

    [Fact]
    public void A_hold_gives_the_mean_current_of_its_tail_after_the_transient()
    {
        // A decaying transient onto 5 pA: the first 80 % are far above it.
        var current = Enumerable.Range(0, 1000).Select(k => k < 800 ? 1e-9 / (k + 1) + 5e-12 : 5e-12).ToArray();
        var curve = new Curve("s", 0, 0, 0, 0, PixelAnalyzer.HoldTechnique, 0, [], new double[1000], current);
        var (result, problem) = PixelAnalyzer.Analyze(Touched, PixelAnalyzer.HoldTechnique, [curve], PixelAnalyzer.Settings(null), 0.2, "w", DateTimeOffset.UnixEpoch);
        Assert.Null(problem);
        Assert.Equal(5e-12, result.MeanCurrentA!.Value, 1e-18);
        Assert.Null(result.DCm2PerS);
        Assert.Equal("ok", result.Flags);
        Assert.Equal(0.75, result.ContactZUm);
    }

    [Fact]
    public void No_contact_and_no_curves_are_no_data_not_errors()
    {
        var (none, _) = PixelAnalyzer.Analyze(Touched with { Contact = false }, "cv", [], PixelAnalyzer.Settings(null), 0.2, "w", DateTimeOffset.UnixEpoch);
        Assert.Equal(PixelAnalyzer.NoContactFlag, none.Flags);
        Assert.Null(none.ContactZUm);
        var (empty, _) = PixelAnalyzer.Analyze(Touched, "cv", [], PixelAnalyzer.Settings(null), 0.2, "w", DateTimeOffset.UnixEpoch);
        Assert.Equal(PixelAnalyzer.NoDataFlag, empty.Flags);
        Assert.Null(empty.DCm2PerS);
    }

    [Fact]
    public void Unusable_curves_are_flagged_invalid_with_the_reason()
    {
        var tiny = new Curve("s", 0, 0, 0, 1, "cv", 0, [], [1, 2, 3], [0, 0, 0]);
        var (result, problem) = PixelAnalyzer.Analyze(Touched, "cv", [tiny, tiny with { RateIndex = 1, ScanRateVPerS = 2 }],
            PixelAnalyzer.Settings(new AnalysisSpec()), 0.2, "w", DateTimeOffset.UnixEpoch);
        Assert.Equal(PixelAnalyzer.InvalidFlag, result.Flags);
        Assert.Contains("at least", problem);
    }

    /// <summary>Pins: a curve with samples the device flagged (overload 0x2, NaN 0x10) marks the pixel result's flags; an overload warning alone does not.</summary>
    [Fact]
    public void A_curve_with_flagged_samples_marks_the_pixel_result()
    {
        var current = Enumerable.Repeat(5e-12, 100).ToArray();
        var curve = new Curve("s", 0, 0, 0, 0, PixelAnalyzer.HoldTechnique, 0, [], new double[100], current, SampleFlagBits: 0x2 | 0x10);
        var (flagged, _) = PixelAnalyzer.Analyze(Touched, PixelAnalyzer.HoldTechnique, [curve], PixelAnalyzer.Settings(null), 0.2, "w", DateTimeOffset.UnixEpoch);
        Assert.Equal("overload|nan", flagged.Flags);
        Assert.Equal(5e-12, flagged.MeanCurrentA!.Value, 1e-18);

        var (warned, _) = PixelAnalyzer.Analyze(Touched, PixelAnalyzer.HoldTechnique, [curve with { SampleFlagBits = 0x8 }], PixelAnalyzer.Settings(null), 0.2, "w",
            DateTimeOffset.UnixEpoch);
        Assert.Equal("ok", warned.Flags);

        var (skipped, _) = PixelAnalyzer.Analyze(Touched with { Skipped = "underload" }, PixelAnalyzer.HoldTechnique, [curve], PixelAnalyzer.Settings(null), 0.2, "w",
            DateTimeOffset.UnixEpoch);
        Assert.Equal("skipped|underload|overload|nan", skipped.Flags);
        Assert.Null(skipped.MeanCurrentA);
    }
}
