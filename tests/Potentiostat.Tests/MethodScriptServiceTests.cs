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
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
