using Seccm.Contracts.Potentiostat;
using Seccm.Contracts.Topics;
using Seccm.Devices.Emulators.MethodScript;
using Seccm.Devices.Serial;
using Seccm.Potentiostat.Tests.Drivers.MethodScript;
using Seccm.TestSupport;

namespace Seccm.Potentiostat.Tests;

/// <summary>The service configured for a real PalmSens (Potentiostat:Driver = methodscript) on a socat port, the emulator at the far end.</summary>
public sealed class MethodScriptServiceTests
{
    [Fact]
    public async Task A_cv_command_runs_as_a_methodscript_on_the_configured_port()
    {
        using var pair = await SocatPair.StartAsync();
        await using var emulator = new MethodScriptEmulator(StreamSerialLine.OpenPort(pair.DevicePort, 230400), () => EmulatedEmStat.Lto, realTime: false);
        emulator.Start();
        var port = FreePort.Next();
        using var host = PotentiostatServiceTests.BuildHost(port, null, settings: new Dictionary<string, string?>
        {
            ["Potentiostat:Driver"] = "methodscript",
            ["Potentiostat:Port"] = pair.HostPort,
        });
        await host.StartAsync();
        try
        {
            await using var client = await PotentiostatServiceTests.ConnectClientAsync(port);
            var finished = await client.CallAsync<CvCommand, TechniqueFinishedEvent>(ServiceNames.Potentiostat, PotentiostatTopics.CvVerb,
                new CvCommand("ms-1", 3, 1.2, 1.9, 1.2, [1.25, 2.5], StepV: 0.005), TimeSpan.FromSeconds(60));

            Assert.Equal(TechniqueOutcomes.Completed, finished.Outcome);
            Assert.Equal(2 * 281, finished.Samples);
            Assert.Contains("meas_loop_cv p c 1200m 1900m 1200m 5m 1250m", emulator.LastScript);
            Assert.False(emulator.CellOn);
            Assert.Null(finished.SampleFlags);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>
    /// Pins, through the service and the real driver: a CV of three scans per rate (nscans(3): 'C' ... '-' per scan) runs
    /// to its end, and samples the device flags (an overload, a NaN) mark the curve messages and the finished event.
    /// </summary>
    [Fact]
    public async Task A_multi_cycle_cv_with_flagged_samples_runs_end_to_end_and_marks_its_curve()
    {
        using var pair = await SocatPair.StartAsync();
        await using var emulator = new MethodScriptEmulator(StreamSerialLine.OpenPort(pair.DevicePort, 921600), () => EmulatedEmStat.Lto, realTime: false)
        {
            ExtraStatus = (loop, k) => loop == 1 && k == 300 ? 0x2 : 0,
            NanCurrent = (loop, k) => loop == 1 && k == 301,
        };
        emulator.Start();
        var port = FreePort.Next();
        using var host = PotentiostatServiceTests.BuildHost(port, null, settings: new Dictionary<string, string?>
        {
            ["Potentiostat:Driver"] = "methodscript",
            ["Potentiostat:Port"] = pair.HostPort,
            ["Potentiostat:ChunkSamples"] = "100",
        });
        await host.StartAsync();
        try
        {
            await using var client = await PotentiostatServiceTests.ConnectClientAsync(port);
            var chunks = new System.Collections.Concurrent.ConcurrentQueue<CurveChunk>();
            await client.SubscribeAsync(PotentiostatTopics.CvDataTopic(PotentiostatServiceTests.Instrument, "ms-3"), (m, _) =>
            {
                chunks.Enqueue(Seccm.Contracts.Serialization.SeccmJson.Deserialize<CurveChunk>(m.Payload.Span, m.Topic));
                return Task.CompletedTask;
            });
            var finished = await client.CallAsync<CvCommand, TechniqueFinishedEvent>(ServiceNames.Potentiostat, PotentiostatTopics.CvVerb,
                new CvCommand("ms-3", 0, 1.2, 1.9, 1.2, [1.25, 2.5], StepV: 0.005, Cycles: 3), TimeSpan.FromSeconds(60));

            Assert.Equal(TechniqueOutcomes.Completed, finished.Outcome);
            Assert.Equal(2 * (3 * 280 + 1), finished.Samples);
            Assert.Contains("meas_loop_cv p c 1200m 1900m 1200m 5m 2500m nscans(3)", emulator.LastScript);
            Assert.Equal("overload|nan", finished.SampleFlags);
            await Eventually.TrueAsync(() => chunks.Where(c => c.RateIndex == 1).Any(c => c.Last), "the last chunk of rate 2", TimeSpan.FromSeconds(30));
            var marked = chunks.Where(c => c.SampleFlags is not null).ToList();
            Assert.All(marked, c => Assert.Equal(1, c.RateIndex));
            Assert.Contains(marked, c => c.FirstSampleIndex <= 300 && c.FirstSampleIndex + c.CurrentA.Length > 301);
            Assert.Contains(chunks, c => c.RateIndex == 1 && c.CurrentA.Any(double.IsNaN));
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
