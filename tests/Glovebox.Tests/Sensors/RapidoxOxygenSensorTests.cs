using Seccm.Devices;
using Seccm.Devices.Emulators.Glovebox;
using Seccm.Glovebox.Sensors;

namespace Seccm.Glovebox.Tests.Sensors;

public sealed class RapidoxOxygenSensorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(300);

    [Theory]
    [InlineData("d2.959E+05,1.426E+01,0", 295900)]
    [InlineData("d8.500E-01", 0.85)]
    public void Parses_the_first_field_as_ppm(string line, double expectedPpm)
    {
        Assert.Equal(expectedPpm, RapidoxOxygenSensor.Parse(line, "ttyX"), 9);
    }

    [Theory]
    [InlineData("?")]
    [InlineData("d")]
    [InlineData("dabc,1")]
    [InlineData("x1.0E+00")]
    [InlineData("d-1.0E+00")]
    public void Rejects_answers_that_are_not_a_ppm_reading_and_quotes_them(string line)
    {
        var ex = Assert.Throws<DeviceProtocolException>(() => RapidoxOxygenSensor.Parse(line, "ttyX"));
        Assert.Contains("ttyX", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reads_the_emulator_and_survives_garbage_and_silence()
    {
        await using var pair = await SerialPair.StartAsync();
        await using var emulator = new RapidoxOxygenEmulator(pair.Device) { O2Ppm = 0.93 };
        emulator.Start();
        await using var sensor = new RapidoxOxygenSensor("o2", pair.Host, Timeout, 2, TimeProvider.System);

        Assert.Equal(0.93, await sensor.ReadO2PpmAsync(CancellationToken.None), 6);

        emulator.Faults.GarbledAnswers = 1;
        emulator.O2Ppm = 1.5;
        Assert.Equal(1.5, await sensor.ReadO2PpmAsync(CancellationToken.None), 6);

        emulator.Faults.Silent = true;
        var ex = await Assert.ThrowsAsync<DeviceTimeoutException>(async () => await sensor.ReadO2PpmAsync(CancellationToken.None));
        Assert.Contains(pair.HostPort, ex.Message, StringComparison.Ordinal);
        Assert.Contains("3 attempts", ex.Message, StringComparison.Ordinal);

        emulator.Faults.Silent = false;
        Assert.Equal(1.5, await sensor.ReadO2PpmAsync(CancellationToken.None), 6);
    }

    [Fact]
    public async Task Persistent_garbage_ends_in_a_protocol_error_quoting_the_line()
    {
        await using var pair = await SerialPair.StartAsync();
        await using var emulator = new RapidoxOxygenEmulator(pair.Device);
        emulator.Start();
        emulator.Faults.GarbledAnswers = 10;
        // The emulator answers every request (garbled): a long timeout, so a loaded machine answering late is not a timeout.
        await using var sensor = new RapidoxOxygenSensor("o2", pair.Host, TimeSpan.FromSeconds(30), 1, TimeProvider.System);

        var ex = await Assert.ThrowsAsync<DeviceProtocolException>(async () => await sensor.ReadO2PpmAsync(CancellationToken.None));
        Assert.Contains("d#.9?E+0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("\\x7F", ex.Message, StringComparison.Ordinal);
    }
}
