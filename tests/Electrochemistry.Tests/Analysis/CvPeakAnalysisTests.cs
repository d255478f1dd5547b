using Seccm.Electrochemistry.Analysis;
using Seccm.Electrochemistry.Samples;
using Seccm.Electrochemistry.Simulation;

namespace Seccm.Electrochemistry.Tests.Analysis;

public class CvPeakAnalysisTests
{
    [Fact]
    public void Savitzky_Golay_keeps_a_parabola_exactly_and_cuts_white_noise()
    {
        var x = Enumerable.Range(0, 400).Select(k => k * 0.01).ToArray();
        var parabola = x.Select(v => 3 - 2 * v + 0.7 * v * v).ToArray();
        var smooth = new double[x.Length];
        SavitzkyGolay.Smooth(parabola, smooth, 10);
        for (int k = 10; k < x.Length - 10; k++) Assert.Equal(parabola[k], smooth[k], 1e-9);

        var noise = new Random(3);
        var noisy = x.Select(_ => noise.NextDouble() - 0.5).ToArray();
        SavitzkyGolay.Smooth(noisy, smooth, 10);
        static double Rms(double[] a) => Math.Sqrt(a.Average(v => v * v));
        Assert.True(Rms(smooth) < 0.4 * Rms(noisy));
    }

    [Fact]
    public void Savitzky_Golay_gives_every_sample_the_least_squares_parabola_of_its_window()
    {
        // Oracle: MathNet's polynomial fit through each window, mirrored at the ends. Lengths around the vector width and
        // half widths up to the whole curve cover the vectorised middle, its scalar rest and both edges.
        var rng = new Random(21);
        for (int n = 3; n <= 70; n++)
        {
            var y = Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray();
            foreach (int halfWidth in new[] { 1, 2, 5, 20, 40 })
            {
                var smooth = new double[n];
                SavitzkyGolay.Smooth(y, smooth, halfWidth);
                int m = Math.Min(halfWidth, (n - 1) / 2);
                if (m < 1) { Assert.Equal(y, smooth); continue; }
                int Mirrored(int j) => j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j;
                var offsets = Enumerable.Range(-m, 2 * m + 1).ToArray();
                for (int i = 0; i < n; i++)
                {
                    var window = offsets.Select(k => y[Mirrored(i + k)]).ToArray();
                    double expected = MathNet.Numerics.Fit.Polynomial(offsets.Select(k => (double)k).ToArray(), window, 2)[0];
                    Assert.Equal(expected, smooth[i], 1e-9);
                }
            }
        }
    }

    [Fact]
    public void Noise_estimate_ignores_the_signal()
    {
        var rng = new Random(5);
        var i = Enumerable.Range(0, 4000).Select(k => 1e-12 * Math.Sin(k / 300.0) + 0.2e-12 * Gaussian(rng)).ToArray();
        Assert.InRange(CvPeakAnalysis.NoiseRms(i), 0.18e-12, 0.22e-12);
    }

    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    [Fact]
    public void Peak_is_measured_from_the_extrapolated_baseline_not_from_zero()
    {
        var couple = new RedoxCouple(0.0, 1e4, 0.5, 1e-5, 1e-6);
        var clean = CvSimulator.Cv(Electrode.Ideal(couple, 1.0), new CvProtocol(-0.5, 0.5, -0.5, 0.001, 1));
        double ip = clean.FaradaicCurrentA.Max();
        // Charging (C_dl v = 20% of ip) and a leakage slope: the corrected peak stays at the Faradaic one.
        var dirty = CvSimulator.Cv(new Electrode([couple], 1.0, DoubleLayerF: 0.2 * ip / 1, LeakageAPerV: 0.1 * ip, NoiseRmsA: 0.01 * ip, NoiseSeed: 4),
            new CvProtocol(-0.5, 0.5, -0.5, 0.001, 1));
        var peaks = CvPeakAnalysis.Analyze(new CvCurve(1, dirty.PotentialV, dirty.CurrentA), new AnalysisSettings());
        // 1% noise: the smoothed maximum is within 1.5% (a raw maximum would sit about 3 sigma high).
        Assert.InRange(peaks.ForwardPeakCurrentA / ip, 0.985, 1.015);
        Assert.InRange(peaks.PeakSeparationV, 0.056, 0.062);
        Assert.InRange(peaks.HalfWavePotentialV, -0.003, 0.003);
        Assert.Single(peaks.ForwardPeaks);
        Assert.False(peaks.SplitWave);
    }

    [Fact]
    public void Cathodic_first_sweep_gives_a_negative_forward_peak()
    {
        var couple = new RedoxCouple(0.0, 1e4, 0.5, 1e-5, 1e-6);
        var sim = CvSimulator.Cv(Electrode.Ideal(couple, 1.0), new CvProtocol(0.5, -0.5, 0.5, 0.001, 1));
        var peaks = CvPeakAnalysis.Analyze(new CvCurve(1, sim.PotentialV, sim.CurrentA), new AnalysisSettings());
        Assert.True(peaks.ForwardPeakCurrentA < 0);
        Assert.True(peaks.ReversePeakCurrentA > 0);
        Assert.InRange(peaks.ForwardPeakPotentialV, -0.032, -0.025);
    }

    [Theory]
    [InlineData(0.001, true)]
    [InlineData(0.005, true)]
    [InlineData(0.1, false)]
    [InlineData(1.0, false)]
    public void LFP_wave_splits_in_two_below_10_mV_per_s_only(double v, bool split)
    {
        var lfp = SampleCatalog.Create("lfp");
        var pipette = new PipetteSettings(RadiusNm: 500, NoiseRmsA: 0.1e-12, NoiseSeed: 9);
        var (start, vertex) = lfp.DefaultWindowV;
        var sim = CvSimulator.Cv(lfp.ElectrodeAt(7.5, 7.5, pipette), new CvProtocol(start, vertex, start, 0.001, v));
        var peaks = CvPeakAnalysis.Analyze(new CvCurve(v, sim.PotentialV, sim.CurrentA), new AnalysisSettings { RadiusNm = 500 });
        Assert.Equal(split, peaks.SplitWave);
        Assert.Equal(split ? 2 : 1, peaks.ForwardPeaks.Count);
    }

    [Fact]
    public void Peaks_closer_than_the_minimum_separation_count_once()
    {
        var e = Enumerable.Range(0, 300).Select(k => k * 0.001).ToArray();
        var y = e.Select(v => Math.Exp(-Math.Pow((v - 0.1) / 0.01, 2)) + 0.9 * Math.Exp(-Math.Pow((v - 0.12) / 0.005, 2))).ToArray();
        Assert.Equal(2, CvPeakAnalysis.FindPeaks(y, e, 0.05, 0.01, 0).Count);
        Assert.Single(CvPeakAnalysis.FindPeaks(y, e, 0.05, 0.03, 0));
    }

    [Fact]
    public void Prominence_is_that_of_its_definition()
    {
        // Oracle: the definition walked out from every local maximum (the deepest dip before a higher sample on each side, 0
        // beyond the ends), on noisy waves, plateaus of equal samples and coarse integer steps.
        var rng = new Random(11);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = rng.Next(3, 400);
            var e = Enumerable.Range(0, n).Select(k => 1.0 + k * 0.001).ToArray();
            double centre = rng.NextDouble() * n, width = 5 + 50 * rng.NextDouble(), noise = trial % 3 == 0 ? 0 : rng.NextDouble();
            var y = Enumerable.Range(0, n).Select(k => trial % 4 == 1
                ? rng.Next(-3, 4)
                : 4 * Math.Exp(-Math.Pow((k - centre) / width, 2)) - 1 + noise * Gaussian(rng)).ToArray();
            double minProminence = rng.NextDouble();
            int from = rng.Next(0, n);

            var expected = new List<(double E, double Y, double Prominence)>();
            for (int k = Math.Max(from, 1); k < n - 1; k++)
            {
                if (!(y[k] > y[k - 1] && y[k] >= y[k + 1])) continue;
                double left = y[k], right = y[k];
                int l = k - 1;
                for (; l >= 0 && y[l] <= y[k]; l--) left = Math.Min(left, y[l]);
                if (l < 0) left = Math.Min(left, 0);
                int r = k + 1;
                for (; r < n && y[r] <= y[k]; r++) right = Math.Min(right, y[r]);
                if (r >= n) right = Math.Min(right, 0);
                double prominence = y[k] - Math.Max(left, right);
                if (prominence >= minProminence) expected.Add((e[k], y[k], prominence));
            }

            // No separation limit: every peak above the prominence, in potential order.
            var found = CvPeakAnalysis.FindPeaks(y, e, minProminence, 0, from);
            Assert.Equal(expected, found.Select(p => (p.PotentialV, p.CurrentA, p.ProminenceA)).ToList());
        }
    }

    [Fact]
    public void Selection_gives_the_sorted_sample_at_every_rank()
    {
        // Oracle: Array.Sort. Ties, runs, periodic patterns and sorted or reversed input included.
        var rng = new Random(12);
        for (int trial = 0; trial < 400; trial++)
        {
            // Long inputs too: from a few hundred values on, the selection brackets the rank from a sample first.
            int n = trial < 300 ? rng.Next(1, 200) : rng.Next(200, 6000);
            var values = Enumerable.Range(0, n).Select(k => (trial % 6) switch
            {
                0 => rng.Next(0, 4),
                1 => k,
                2 => n - k,
                // A pattern whose evenly spaced samples need not be typical of the whole.
                3 => k % 64 < 2 ? 1e3 + k : k % 17,
                _ => rng.NextDouble() - 0.5,
            }).ToArray();
            var sorted = values.ToArray();
            Array.Sort(sorted);
            int rank = rng.Next(0, n);
            Assert.Equal(sorted[rank], CvPeakAnalysis.Select(values.ToArray(), rank));
        }
    }

    [Fact]
    public void Analysis_is_thread_safe_and_deterministic()
    {
        var sample = SampleCatalog.Create("lto", 2);
        var pixels = Enumerable.Range(0, 6).Select(p => PixelAnalysisTests.Measure(sample, 0.4 + 0.7 * p, 2, PixelAnalysisTests.MapRates, new PipetteSettings(NoiseRmsA: 0.1e-12, NoiseSeed: p))).ToArray();
        var serial = pixels.Select(p => PixelAnalysis.Analyze(p, new AnalysisSettings()).DCm2PerS).ToArray();
        var parallel = new double[pixels.Length];
        Parallel.For(0, pixels.Length * 4, k => parallel[k % pixels.Length] = PixelAnalysis.Analyze(pixels[k % pixels.Length], new AnalysisSettings()).DCm2PerS);
        Assert.Equal(serial, parallel);
    }
}
