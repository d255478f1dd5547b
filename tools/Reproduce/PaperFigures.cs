using System.Diagnostics;
using Seccm.Contracts.Scan;
using Seccm.Electrochemistry.Analysis;
using Seccm.Electrochemistry.Samples;
using Seccm.Electrochemistry.Simulation;
using Seccm.Maps.Figures;
using Seccm.Scan.Recipes;

namespace Seccm.Host.Reproduce;

/// <summary>One number of the paper against ours; <see cref="Ratio"/> = ours / paper where the paper gives one.</summary>
internal sealed record PaperNumber(string Figure, string Quantity, string Unit, double Ours, double? Paper, string? Note = null)
{
    public double? Ratio => Paper is { } p && p != 0 && double.IsFinite(Ours) ? Ours / p : null;
}

/// <summary>What one figure's reproduction wrote: its numbers, image files (relative to the output root) and how long it took.</summary>
internal sealed record FigureResult(string Figure, IReadOnlyList<PaperNumber> Numbers, IReadOnlyList<string> Images, double Seconds);

/// <summary>
/// The published figures, each a scan (or a few) on the simulated instrument through the real message path, then the
/// same analysis a user would run. Numbers the paper gives are paired with ours.
/// </summary>
internal static class PaperFigures
{
    public static IReadOnlyList<string> Names { get; } = ["fig2a", "fig2b", "fig2c", "fig2d", "fig3", "fig4"];

    private static readonly double[] Fig2Rates = [0.01, 0.1, 0.5];

    public static async Task<FigureResult> RunAsync(string figure, string outputRoot, int size, int seed, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var dir = Path.Combine(outputRoot, figure);
        Directory.CreateDirectory(dir);
        var (numbers, images) = figure switch
        {
            // At 55 nm the 10 mV/s peaks are ~0.3 pA (LTO) and ~0.6 pA (LCO) against 0.2 pA of noise, so dEp would be noise:
            // both slow-CV figures use the same larger contact, and LCO the full window its 500 mV/s waves need.
            "fig2a" => await PeakSeparationAsync(figure, dir, "lto", seed, 1.2, 1.9, [57, 74, 136], SampleDefaults.SlowCvPipetteRadiusNm, cancellationToken).ConfigureAwait(false),
            "fig2b" => await PeakSeparationAsync(figure, dir, "lco", seed, 2.8, 5.0, [155, 426, 736], SampleDefaults.SlowCvPipetteRadiusNm, cancellationToken).ConfigureAwait(false),
            "fig2c" => await LinearRangeAsync(dir, seed, cancellationToken).ConfigureAwait(false),
            "fig2d" => await ChargeDischargeAsync(dir, seed, cancellationToken).ConfigureAwait(false),
            "fig3" => await LtoMapsAsync(dir, size, seed, cancellationToken).ConfigureAwait(false),
            "fig4" => await LfpAsync(dir, size, seed, cancellationToken).ConfigureAwait(false),
            _ => throw new ArgumentException($"unknown figure '{figure}'; valid: {string.Join(", ", Names)}, all"),
        };
        return new FigureResult(figure, numbers, images.Select(i => Path.GetRelativePath(outputRoot, i)).ToArray(), stopwatch.Elapsed.TotalSeconds);
    }

    private static async Task<(List<PaperNumber>, List<string>)> PeakSeparationAsync(string figure, string dir, string sample, int seed,
        double startV, double vertexV, double[] paperMv, double radiusNm, CancellationToken cancellationToken)
    {
        var recipe = CvRecipe($"{figure}-{sample}", sample, [new PointSpec(2.5, 2.5)], startV, vertexV, Fig2Rates, 0.001, radiusNm);
        var scan = await RunScanAsync(dir, sample, seed, radiusNm, recipe, false, cancellationToken).ConfigureAwait(false);
        var settings = Settings(recipe);
        var numbers = new List<PaperNumber>();
        var series = new List<XySeries>();
        var pipette = new PipetteSettings(RadiusNm: radiusNm);
        foreach (var curve in scan.Curves.Where(c => c.Technique == "cv"))
        {
            var peaks = CvPeakAnalysis.Analyze(new CvCurve(curve.ScanRateVPerS, curve.PotentialV, curve.CurrentA), settings);
            var k = Array.IndexOf(Fig2Rates, curve.ScanRateVPerS);
            numbers.Add(new PaperNumber(figure, $"{sample.ToUpperInvariant()} peak separation at {curve.ScanRateVPerS * 1000:0} mV/s", "mV",
                peaks.PeakSeparationV * 1000, k >= 0 ? paperMv[k] : null,
                $"pipette radius {radiusNm:0} nm, R_u {pipette.EffectiveUncompensatedOhm:0.0e0} ohm, {KineticsNote(sample)}; forward peak {Math.Abs(peaks.ForwardPeakCurrentA) * 1e12:0.0} pA against {peaks.NoiseRmsA * 1e12:0.00} pA rms noise"));
            series.Add(new XySeries($"{curve.ScanRateVPerS * 1000:0} mV/s", curve.PotentialV, curve.CurrentA.Select(i => i * 1e12).ToArray()) { Group = k });
        }
        var image = Path.Combine(dir, $"{sample}-cvs.png");
        LineFigure.Save(image, series, new LineFigureOptions { Title = $"{sample.ToUpperInvariant()} CVs ({radiusNm:0} nm pipette)", XLabel = "E (V vs Li/Li+)", YLabel = "i (pA)" });
        return (numbers, [image]);
    }

    /// <summary>Why the sample's dEp grows as it does: the fitted kinetics (R_u is the pipette's, in the note beside it).</summary>
    private static string KineticsNote(string sample)
    {
        var couple = SampleCatalog.Create(sample).MaterialAt(2.5, 2.5).Couples[0];
        var why = sample == "lto"
            ? "iR ~ ip ~ sqrt(v) cannot rise 1.84x from 100 to 500 mV/s as the paper's does: the best any k0/R_u reaches is ~16%"
            : "the low alpha makes the anodic peak run away with rate";
        return $"k0 {couple.K0CmPerS:0.0e0} cm/s, alpha {couple.Alpha:0.00}, fitted with R_u to the three separations ({why})";
    }

    private static async Task<(List<PaperNumber>, List<string>)> LinearRangeAsync(string dir, int seed, CancellationToken cancellationToken)
    {
        // Past the paper's 25 V/s limit, so the analysis has a departure to find; 50 V/s is the potentiostat's fastest.
        double[] rates = [0.1, 0.25, 0.5, 1.25, 2.5, 5, 10, 20, 25, 50];
        var point = new PointSpec(2.5, 2.5);
        var recipe = CvRecipe("fig2c-lto", "lto", [point], 1.2, 1.9, rates, 0.005, 55);
        var scan = await RunScanAsync(dir, "lto", seed, 55, recipe, false, cancellationToken).ConfigureAwait(false);
        var curves = scan.Curves.Where(c => c.Technique == "cv").Select(c => new CvCurve(c.ScanRateVPerS, c.PotentialV, c.CurrentA)).ToArray();
        var result = PixelAnalysis.Analyze(curves, Settings(recipe));
        var at125 = result.Curves.FirstOrDefault(c => c.ScanRateVPerS == 1.25);
        var truth = SampleCatalog.Create("lto", seed).TrueDCm2PerS(point.XUm, point.YUm);
        var numbers = new List<PaperNumber>
        {
            new("fig2c", "LTO D from ip vs sqrt(v) (one spot)", "cm^2/s", result.DCm2PerS, SampleDefaults.LtoMeanDCm2PerS,
                $"simulated truth at this spot {truth:0.00e0}; fit R^2 {result.RSquared:0.0000} over {result.RatesUsed} rates"),
            new("fig2c", "LTO ip linear in sqrt(v) up to", "V/s", result.RatesUsedVPerS.Count > 0 ? result.RatesUsedVPerS.Max() : double.NaN, 25,
                $"rates used {string.Join(", ", result.RatesUsedVPerS)} of {string.Join(", ", rates)}; flags {result.FlagText}, info {result.InfoText} ({result.RatesDropped}); above the limit the " +
                $"{SampleDefaults.CurrentAmplifierBandwidthHz:0} Hz pA-range amplifier (time constant {1e3 / (2 * Math.PI * SampleDefaults.CurrentAmplifierBandwidthHz):0.0} ms) " +
                $"cuts the ms-long peaks; ip/sqrt(v) at {rates[^1]:0} V/s is {Departure(result):0.00} of that at the range's end"),
            new("fig2c", "LTO peak current at 1.25 V/s", "pA", at125 is null ? double.NaN : Math.Abs(at125.ForwardPeakCurrentA) * 1e12, 3.2),
        };
        // The figure shows the measured peak currents and the straight line through those of the linear range (as the
        // paper's Fig. 2c does); D itself comes from the whole-wave fit, which also models kinetics and the amplifier.
        var used = result.RatesUsedVPerS.ToHashSet();
        var inRange = result.Curves.Where(c => used.Contains(c.ScanRateVPerS)).ToArray();
        var outside = result.Curves.Where(c => !used.Contains(c.ScanRateVPerS)).ToArray();
        var (intercept, slope) = inRange.Length >= 2
            ? MathNet.Numerics.Fit.Line(inRange.Select(c => Math.Sqrt(c.ScanRateVPerS)).ToArray(), inRange.Select(c => Math.Abs(c.ForwardPeakCurrentA)).ToArray())
            : (result.InterceptA, result.SlopeAPerSqrtVPerS);
        var fit = new PeakFitSeries($"LTO, linear range (to {numbers[1].Ours:0.##} V/s)", inRange.Select(c => Math.Sqrt(c.ScanRateVPerS)).ToArray(),
            inRange.Select(c => Math.Abs(c.ForwardPeakCurrentA)).ToArray(), slope, intercept) { Group = 0 };
        var beyond = new PeakFitSeries("above the linear range", outside.Select(c => Math.Sqrt(c.ScanRateVPerS)).ToArray(),
            outside.Select(c => Math.Abs(c.ForwardPeakCurrentA)).ToArray(), 0, 0) { Group = 1, DrawLine = false };
        var cvs = curves.Select((c, k) => new XySeries($"{c.ScanRateVPerS:0.##} V/s", c.PotentialV, c.CurrentA) { Group = k }).ToArray();
        var image = Path.Combine(dir, "lto-ip-vs-sqrt-v.png");
        CvFigure.Save(image, cvs, outside.Length > 0 ? [fit, beyond] : [fit], new CvFigureOptions { Title = $"LTO: ip vs sqrt(v), linear up to {numbers[1].Ours:0.##} V/s" });
        return (numbers, [image]);
    }

    /// <summary>ip/sqrt(v) of the fastest rate over that of the fastest rate the fit used.</summary>
    private static double Departure(PixelResult result)
    {
        var last = result.Curves.LastOrDefault(c => result.RatesUsedVPerS.Contains(c.ScanRateVPerS));
        if (last is null)
        {
            return double.NaN;
        }
        var level = Math.Abs(last.ForwardPeakCurrentA) / Math.Sqrt(last.ScanRateVPerS);
        var fastest = result.Curves[^1];
        return Math.Abs(fastest.ForwardPeakCurrentA) / Math.Sqrt(fastest.ScanRateVPerS) / level;
    }

    private static async Task<(List<PaperNumber>, List<string>)> ChargeDischargeAsync(string dir, int seed, CancellationToken cancellationToken)
    {
        var recipe = RecipeLoader.LoadBuiltIn("charge-discharge");
        var radiusNm = recipe.Analysis!.RadiusNm;
        var scan = await RunScanAsync(dir, "lto", seed, radiusNm, recipe, false, cancellationToken).ConfigureAwait(false);
        var halves = scan.Curves.Where(c => c.Technique == "cp").OrderBy(c => c.RateIndex).Select(c => (c.TimeS, c.PotentialV, c.CurrentA)).ToArray();
        if (halves.Length == 0)
        {
            throw new InvalidOperationException("the charge/discharge scan delivered no data (no contact?)");
        }
        var area = Math.PI * Math.Pow(radiusNm * 1e-7, 2);
        var cycles = ChargeDischargeAnalysis.Analyze(halves, area);
        var first = cycles[0];
        var film = SampleCatalog.Create("lto", seed).ElectrodeAt(2.5, 2.5, new PipetteSettings(RadiusNm: radiusNm));
        var filmC = ChargeDischargeSimulator.FilmCapacityC(film);
        var d = film.Couples[0].DCm2PerS;
        var loss = $"the paper's text gives no capacities, only that the fast discharge gives less than the charge; ours: " +
            $"{film.FilmThicknessCm * 1e7:0} nm of LTO (n F C A L = {filmC:0.00e0} C), D {d:0.00e0} cm^2/s, L^2/D = {Math.Pow(film.FilmThicknessCm, 2) / d:0} s: " +
            "solid-state diffusion in the film limits the faster half-cycle more";
        var numbers = new List<PaperNumber>
        {
            new("fig2d", "charge/discharge duration (one cycle, 5 um pipette)", "s", first.ChargeS + first.DischargeS, 1600),
            new("fig2d", "charge capacity", "uAh", first.ChargeUAh, null,
                $"{first.ChargeC:0.000e0} C = {first.ChargeC / filmC:P0} of the film, {first.ChargeUAhPerCm2:0.0} uAh/cm^2, {first.ChargeS:0} s"),
            new("fig2d", "discharge capacity", "uAh", first.DischargeUAh, null,
                $"{first.DischargeC:0.000e0} C = {first.DischargeC / filmC:P0} of the film, {first.DischargeUAhPerCm2:0.0} uAh/cm^2, {first.DischargeS:0} s"),
            new("fig2d", "coulombic efficiency", "", first.CoulombicEfficiency, null, $"discharge at twice the charge current; {loss}"),
            new("fig2d", "charge plateau", "V", first.ChargePlateauV, 1.55),
            new("fig2d", "discharge plateau", "V", first.DischargePlateauV, 1.55),
        };
        var curves = halves.Select((h, k) => new ChargeDischargeCurve(k % 2 == 0 ? $"charge {k / 2 + 1}" : $"discharge {k / 2 + 1}",
            ChargeDischargeAnalysis.CapacityUAh(h.TimeS, h.CurrentA), h.PotentialV, k % 2 == 0)).ToArray();
        var image = Path.Combine(dir, "charge-discharge.png");
        CapacityFigure.Save(image, curves, title: "LTO charge/discharge, 5 um pipette");
        return (numbers, [image]);
    }

    private static async Task<(List<PaperNumber>, List<string>)> LtoMapsAsync(string dir, int size, int seed, CancellationToken cancellationToken)
    {
        var pitch = 5.0 / size;
        var grid = new GridSpec(size, size, pitch);
        var origin = new PointSpec(pitch / 2, pitch / 2);
        var currentDir = Path.Combine(dir, "current-map");
        var hold = RecipeLoader.LoadBuiltIn("lto-current-map") with { Grid = grid, Origin = origin, Points = null };
        var holdScan = await RunScanAsync(currentDir, "lto", seed, 55, hold, true, cancellationToken).ConfigureAwait(false);
        var dDir = Path.Combine(dir, "d-map");
        var dRecipe = RecipeLoader.LoadBuiltIn("lto-d-map") with { Grid = grid, Origin = origin, Points = null };
        var dScan = await RunScanAsync(dDir, "lto", seed, 55, dRecipe, true, cancellationToken).ConfigureAwait(false);
        var settings = Settings(dRecipe);
        var sample = SampleCatalog.Create("lto", seed);
        var results = dScan.Curves.Where(c => c.Technique == "cv").GroupBy(c => c.Pixel)
            .Select(g => (Pixel: g.Key, Result: PixelAnalysis.Analyze(g.Select(c => new CvCurve(c.ScanRateVPerS, c.PotentialV, c.CurrentA)).ToArray(), settings)))
            .ToArray();
        var d = results.Select(r => r.Result.DCm2PerS).Where(double.IsFinite).ToArray();
        var truth = dScan.Pixels.Select(p => sample.TrueDCm2PerS(p.XUm, p.YUm)).Where(double.IsFinite).ToArray();
        var meanCurrent = holdScan.Curves.Where(c => c.Technique == "hold" && c.CurrentA.Length > 0).Select(c => c.CurrentA.Average()).DefaultIfEmpty(double.NaN).Average();
        var numbers = new List<PaperNumber>
        {
            new("fig3", "LTO mean D over the map", "cm^2/s", d.Length > 0 ? d.Average() : double.NaN, SampleDefaults.LtoMeanDCm2PerS,
                $"{d.Length} of {size * size} pixels; simulated truth mean {(truth.Length > 0 ? truth.Average() : double.NaN):0.00e0}"),
            new("fig3", "LTO D spread (max/min over the map)", "", d.Length > 0 ? d.Max() / d.Min() : double.NaN, null, "facet dependence (grains)"),
            new("fig3", "LTO mean current at 1.3 V", "pA", meanCurrent * 1e12, null, $"{holdScan.Curves.Count} pixels"),
        };
        var images = ExportedImages(currentDir).Concat(ExportedImages(dDir)).ToList();
        var examples = results.Take(3).ToArray();
        if (examples.Length > 0)
        {
            var byPixel = dScan.Curves.Where(c => c.Technique == "cv").ToLookup(c => c.Pixel);
            var cvs = examples.SelectMany((e, g) => byPixel[e.Pixel].Select(c =>
                new XySeries($"pixel {e.Pixel} {c.ScanRateVPerS:0.##} V/s", c.PotentialV, c.CurrentA) { Group = g })).ToArray();
            var fits = examples.Select((e, g) => new PeakFitSeries($"pixel {e.Pixel}: D {e.Result.DCm2PerS:0.00e0}",
                e.Result.Curves.Select(c => Math.Sqrt(c.ScanRateVPerS)).ToArray(), e.Result.Curves.Select(c => Math.Abs(c.ForwardPeakCurrentA)).ToArray(),
                e.Result.SlopeAPerSqrtVPerS, e.Result.InterceptA) { Group = g }).ToArray();
            var image = Path.Combine(dir, "example-cvs.png");
            CvFigure.Save(image, cvs, fits, new CvFigureOptions { Title = "LTO: CVs at 1.25-20 V/s at three pixels" });
            images.Add(image);
        }
        return (numbers, images);
    }

    private static async Task<(List<PaperNumber>, List<string>)> LfpAsync(string dir, int size, int seed, CancellationToken cancellationToken)
    {
        var pitch = 15.0 / size;
        var mapDir = Path.Combine(dir, "map");
        var map = RecipeLoader.LoadBuiltIn("lfp-map") with
        {
            Grid = new GridSpec(size, size, pitch),
            Origin = new PointSpec(pitch / 2, pitch / 2),
            Points = null,
        };
        var mapScan = await RunScanAsync(mapDir, "lfp", seed, 55, map, true, cancellationToken).ConfigureAwait(false);
        var topography = TopographyCheck.Compare(mapScan.Pixels, SampleCatalog.Create("lfp", seed));
        var lfpSample = SampleCatalog.Create("lfp", seed);
        var onSubstrate = mapScan.Pixels.Where(p => lfpSample.MaterialAt(p.XUm, p.YUm).Couples.Count == 0).ToArray();
        double[] rates = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];
        // At 55 nm the slow thin-layer waves are ~0.01 pA, far under the noise: the CVs on the particle use a 1 um pipette.
        const double cvRadiusNm = SampleDefaults.LfpRateSeriesPipetteRadiusNm;
        var cvRecipe = CvRecipe("fig4-lfp-rates", "lfp", [new PointSpec(SampleDefaults.LfpParticleCentreUm, SampleDefaults.LfpParticleCentreUm)], 3.0, 3.9, rates, 0.001, cvRadiusNm) with
        {
            Approach = map.Approach,
            RetractUm = map.RetractUm,
        };
        var cvScan = await RunScanAsync(Path.Combine(dir, "rates"), "lfp", seed, cvRadiusNm, cvRecipe, false, cancellationToken).ConfigureAwait(false);
        var settings = Settings(cvRecipe);
        var peaks = cvScan.Curves.Where(c => c.Technique == "cv")
            .Select(c => CvPeakAnalysis.Analyze(new CvCurve(c.ScanRateVPerS, c.PotentialV, c.CurrentA), settings)).OrderBy(p => p.ScanRateVPerS).ToArray();
        // The split rate: the slowest rate from which on no sweep is split (the paper: 10 mV/s).
        var firstWhole = peaks.Length;
        while (firstWhole > 0 && !peaks[firstWhole - 1].SplitWave)
        {
            firstWhole--;
        }
        var splitBelow = firstWhole < peaks.Length ? peaks[firstWhole].ScanRateVPerS * 1000 : double.NaN;
        var numbers = new List<PaperNumber>
        {
            new("fig4", "LFP wave splits below", "mV/s", splitBelow, 10,
                $"split at {string.Join(", ", peaks.Where(p => p.SplitWave).Select(p => $"{p.ScanRateVPerS * 1000:0.#}"))} mV/s; CVs on the particle centre through a {cvRadiusNm:0} nm pipette"),
            new("fig4", "LFP particle height (max recovered topography)", "nm", topography.MaxRecoveredNm, 1500, "simulated particle 1500 nm; paper: 1-2 um"),
            new("fig4", "map pixels with contact", "", mapScan.Pixels.Count(p => p.Contact), null,
                $"of {mapScan.Pixels.Count}; bare substrate {onSubstrate.Count(p => p.Contact)} of {onSubstrate.Length} (electrolyte oxidation at 4.2 V)"),
            new("fig4", "topography error, raw (rms)", "nm", topography.RmsErrorNm, null,
                $"max |error| {topography.MaxAbsErrorNm:0} nm over {topography.Pixels} pixels; approach step {topography.StepNm:0} nm"),
        };
        var series = cvScan.Curves.Where(c => c.Technique == "cv").Select((c, k) =>
            new XySeries($"{c.ScanRateVPerS * 1000:0.#} mV/s", c.PotentialV, c.CurrentA.Select(i => i * 1e12).ToArray()) { Group = k }).ToArray();
        var cvImage = Path.Combine(dir, "lfp-cvs.png");
        LineFigure.Save(cvImage, series, new LineFigureOptions { Title = $"LFP CVs, 1 to 1000 mV/s ({cvRadiusNm:0} nm pipette)", XLabel = "E (V vs Li/Li+)", YLabel = "i (pA)" });
        return (numbers, [.. ExportedImages(mapDir), cvImage]);
    }

    private static async Task<LabScan> RunScanAsync(string dir, string sample, int seed, double radiusNm, Recipe recipe, bool waitForExport,
        CancellationToken cancellationToken)
    {
        await using var lab = await SimulatedLab.StartAsync(dir, sample, seed, radiusNm, cancellationToken).ConfigureAwait(false);
        var scan = await lab.RunAsync(recipe, waitForExport, cancellationToken).ConfigureAwait(false);
        if (scan.State != ScanState.Completed)
        {
            throw new InvalidOperationException($"the {recipe.Name} scan ended {scan.State}");
        }
        return scan;
    }

    private static IEnumerable<string> ExportedImages(string dir) =>
        Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*.png").Order(StringComparer.Ordinal) : [];

    private static Recipe CvRecipe(string name, string sample, IReadOnlyList<PointSpec> points, double startV, double vertexV, double[] rates, double stepV,
        double radiusNm) => new(
        name,
        Points: points,
        Technique: new TechniqueSpec(TechniqueKind.Cv, new CvSpec(startV, vertexV, startV, rates, stepV)),
        Approach: new ApproachSpec(SpeedUmPerS: 2, MaxTravelUm: 3, ContactThresholdA: 3e-12, BiasV: startV, StartZUm: 1.0),
        RetractUm: 0.5,
        SettleS: 0.05,
        Sample: sample,
        Analysis: new AnalysisSpec(RadiusNm: radiusNm, ConcentrationMolCm3: sample == "lfp" ? 0.0228 : 0.0227),
        Description: $"{sample} CVs at {string.Join(", ", rates)} V/s");

    private static AnalysisSettings Settings(Recipe recipe)
    {
        var a = recipe.Analysis ?? new AnalysisSpec();
        // The simulated lab's potentiostat declares its pA-range amplifier, as the diffusion service does.
        return new AnalysisSettings
        {
            RadiusNm = a.RadiusNm, ConcentrationMolCm3 = a.ConcentrationMolCm3, N = a.N, TemperatureK = a.TemperatureK, AreaCm2 = a.AreaCm2,
            MeasurementBandwidthHz = SampleDefaults.CurrentAmplifierBandwidthHz,
        };
    }
}
