using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Seccm.Contracts.Stage;
using Seccm.Contracts.Topics;
using Seccm.Devices.Emulators.PiGcs;
using Seccm.Devices.Serial;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.TestSupport;

namespace Seccm.Stage.Tests;

public sealed class StageOptionsTests
{
    private static readonly string DataDir = Directory.CreateTempSubdirectory("seccm-stage-").FullName;

    private static IHost Build(int port, Dictionary<string, string?> stage)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var config = new Dictionary<string, string?>
        {
            ["Instrument"] = "t1",
            ["Mqtt:Host"] = "127.0.0.1",
            ["Mqtt:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Storage:Directory"] = Path.Combine(DataDir, "timeseries"),
            ["Storage:BufferDirectory"] = Path.Combine(DataDir, "buffer"),
        };
        foreach (var (k, v) in stage)
        {
            config["Stage:" + k] = v;
        }
        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.AddLogging();
        builder.AddEmbeddedBroker();
        builder.AddStageService();
        return builder.Build();
    }

    [Theory]
    [InlineData("Driver", "warp", "Stage:Driver 'warp' is unknown")]
    [InlineData("Driver", "pi-gcs", "Stage:Port is required")]
    [InlineData("TelemetryMovingHz", "500", "Stage:TelemetryMovingHz must be between 20 and 100")]
    [InlineData("AxisZ", "3 4", "Stage:AxisZ '3 4'")]
    [InlineData("Parity", "evenish", "Stage:Parity: 'evenish' is not a parity")]
    [InlineData("StopBits", "3", "Stage:StopBits: '3' is not a number of stop bits")]
    [InlineData("DataBits", "9", "Stage:DataBits: 9 must be 5, 6, 7 or 8")]
    public async Task A_bad_setting_stops_start_up_with_a_message_naming_it(string key, string value, string expected)
    {
        using var host = Build(FreePort.Next(), new() { [key] = value });
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(expected, string.Join(" ", ex.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_pi_gcs_driver_is_chosen_by_configuration_and_moves_the_emulated_controller()
    {
        using var pair = await SocatPair.StartAsync();
        await using var emulator = new PiGcsEmulator(StreamSerialLine.OpenPort(pair.DevicePort, 115200), TimeProvider.System).Start();
        var port = FreePort.Next();
        using var host = Build(port, new() { ["Driver"] = "pi-gcs", ["Port"] = pair.HostPort, ["AnswerTimeoutMs"] = "3000" });
        await host.StartAsync();
        await using var client = new MqttBus(ServiceNames.Cli, new SeccmOptions { Instrument = "t1" }, new MqttOptions { Host = "127.0.0.1", Port = port },
            NullLogger.Instance, TimeProvider.System);
        await client.StartAsync(CancellationToken.None);
        await client.WaitConnectedAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        // No waiting for the service to be ready: a command sent right after start must still be answered.
        var result = await client.CallAsync<MoveCommand, StagePositionResult>(ServiceNames.Stage, StageTopics.MoveVerb,
            new MoveCommand(XUm: 42.5, ZUm: 30), TimeSpan.FromSeconds(30));

        Assert.True(result.OnTarget);
        Assert.Equal(42.5, result.XUm);
        Assert.Equal(30, result.ZUm);
        Assert.True(emulator.IsServoOn("3"));
        // Going down: across first, then down (the pipette never travels sideways lower than it has to).
        var commands = emulator.ReceivedCommands.ToList();
        Assert.True(commands.IndexOf("MOV 1 42.5") is >= 0 and var across && commands.IndexOf("MOV 3 30") > across, string.Join(" | ", commands));
        await host.StopAsync();
    }
}
