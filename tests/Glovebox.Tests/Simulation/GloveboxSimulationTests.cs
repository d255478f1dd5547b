using Microsoft.Extensions.Time.Testing;
using Seccm.Glovebox.Simulation;

namespace Seccm.Glovebox.Tests.Simulation;

public sealed class GloveboxSimulationTests
{
    private static List<GloveboxConditions> Run(GloveboxSimulation simulation, FakeTimeProvider time, TimeSpan duration, TimeSpan step)
    {
        var samples = new List<GloveboxConditions>();
        for (var t = TimeSpan.Zero; t < duration; t += step)
        {
            time.Advance(step);
            samples.Add(simulation.Sample());
        }
        return samples;
    }

    [Fact]
    public void A_normal_day_stays_near_one_ppm_O2_and_minus_75_C_dew_point()
    {
        var time = new FakeTimeProvider();
        var samples = Run(new GloveboxSimulation(time), time, TimeSpan.FromHours(24), TimeSpan.FromSeconds(10));

        Assert.InRange(samples.Average(s => s.O2Ppm), 0.8, 1.25);
        Assert.InRange(samples.Average(s => s.DewPointC), -76.5, -73.5);
        Assert.All(samples, s => Assert.InRange(s.O2Ppm, 0.2, 4.0));
        Assert.All(samples, s => Assert.InRange(s.DewPointC, -80, -71));
        Assert.All(samples, s => Assert.InRange(s.PressureHPa, 1015, 1018));
        // It drifts: not a constant with noise on top.
        var hourly = samples.Chunk(360).Select(c => c.Average(s => s.O2Ppm)).ToList();
        Assert.True(hourly.Max() - hourly.Min() > 0.1, $"hourly means {string.Join(", ", hourly)} do not drift");
    }

    [Fact]
    public void A_leak_drives_O2_and_H2O_past_the_alarm_levels_and_the_purifier_recovers()
    {
        var time = new FakeTimeProvider();
        var simulation = new GloveboxSimulation(time);
        simulation.Trigger("leak");
        Assert.Equal("leak", simulation.Scenario);

        var samples = Run(simulation, time, TimeSpan.FromMinutes(90), TimeSpan.FromSeconds(10));
        Assert.True(samples.Max(s => s.O2Ppm) > 10, "O2 never passed the 10 ppm alarm");
        Assert.True(samples.Max(s => s.DewPointC) > -60, "dew point never passed the -60 C alarm");
        var lastTenMinutes = samples.TakeLast(60).ToList();
        Assert.All(lastTenMinutes, s => Assert.True(s.O2Ppm < 5 && s.DewPointC < -70, $"not recovered: {s}"));
        Assert.Equal("normal", simulation.Scenario);
    }

    [Fact]
    public void Regeneration_raises_moisture_to_a_warning_but_not_an_alarm()
    {
        var time = new FakeTimeProvider();
        var simulation = new GloveboxSimulation(time);
        simulation.Trigger("regeneration");

        var samples = Run(simulation, time, TimeSpan.FromMinutes(120), TimeSpan.FromSeconds(10));
        Assert.True(samples.Max(s => s.DewPointC) > -70, "moisture never reached a warning");
        Assert.True(samples.Max(s => s.DewPointC) < -60, "regeneration should not reach the alarm level");
        Assert.True(samples.Max(s => s.O2Ppm) < 5);
        Assert.All(samples.TakeLast(30), s => Assert.True(s.DewPointC < -70));
    }

    [Fact]
    public void Accelerated_time_runs_a_leak_in_a_fraction_of_the_wall_time()
    {
        var time = new FakeTimeProvider();
        var simulation = new GloveboxSimulation(time, new GloveboxSimulationOptions { SpeedFactor = 60 });
        simulation.Trigger("leak");

        var samples = Run(simulation, time, TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(1));
        Assert.True(samples.Max(s => s.O2Ppm) > 10);
        Assert.True(samples[^1].O2Ppm < 5);
    }

    [Fact]
    public void Normal_ends_a_running_scenario_at_once()
    {
        var time = new FakeTimeProvider();
        var simulation = new GloveboxSimulation(time);
        simulation.Trigger("leak");
        Run(simulation, time, TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(10));
        simulation.Trigger("normal");
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(simulation.Sample().O2Ppm < 4);
    }

    [Fact]
    public void An_unknown_scenario_is_refused_with_the_known_names()
    {
        var simulation = new GloveboxSimulation(new FakeTimeProvider());
        var ex = Assert.Throws<ArgumentException>(() => simulation.Trigger("earthquake"));
        Assert.Contains("'earthquake'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("leak", ex.Message, StringComparison.Ordinal);
        Assert.Equal("normal", simulation.Scenario);
    }

    [Fact]
    public void With_the_circulation_off_contamination_creeps_up()
    {
        var on = new FakeTimeProvider();
        var off = new FakeTimeProvider();
        var running = new GloveboxSimulation(on, new GloveboxSimulationOptions { Seed = 3 });
        var stopped = new GloveboxSimulation(off, new GloveboxSimulationOptions { Seed = 3 }) { CirculationOn = false };

        var a = Run(running, on, TimeSpan.FromHours(3), TimeSpan.FromMinutes(1));
        var b = Run(stopped, off, TimeSpan.FromHours(3), TimeSpan.FromMinutes(1));
        // Same seed, same drift: the difference at the end is the creep (0.3 ppm/h for 3 h).
        Assert.InRange(b[^1].O2Ppm - a[^1].O2Ppm, 0.7, 1.1);
    }

    [Fact]
    public void The_same_seed_gives_the_same_glovebox()
    {
        var t1 = new FakeTimeProvider();
        var t2 = new FakeTimeProvider();
        var a = Run(new GloveboxSimulation(t1), t1, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5));
        var b = Run(new GloveboxSimulation(t2), t2, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5));
        Assert.Equal(a, b);
    }
}
