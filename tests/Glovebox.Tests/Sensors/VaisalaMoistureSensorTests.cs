using Seccm.Devices;
using Seccm.Devices.Emulators.Glovebox;
using Seccm.Electrochemistry.Atmosphere;
using Seccm.Glovebox.Sensors;

namespace Seccm.Glovebox.Tests.Sensors;

public sealed class VaisalaMoistureSensorTests
{
    [Fact]
    public void Parses_the_example_line_of_the_protocol_notes()
    {
        var reading = VaisalaMoistureSensor.Parse("Tdf= -9.80 'C Tdfatm= -9.80 'C H2O= 2618 ppm", "ttyX", 1013.25);
        Assert.Equal(new MoistureReading(-9.80, 2618), reading);
    }

    [Fact]
    public void Computes_ppm_from_the_frost_point_when_the_transmitter_sends_no_H2O()
    {
        var reading = VaisalaMoistureSensor.Parse("Tdf= -70.00 'C", "ttyX", 1013.25);
        Assert.Equal(FrostPoint.PpmvFromFrostPointC(-70), reading.H2oPpm, 9);
    }

    [Theory]
    [InlineData("Unknown command")]
    [InlineData("Tdf= ##.# 'C")]
    [InlineData("Tdf= -70.0 'C H2O= abc ppm")]
    public void Rejects_lines_without_a_valid_frost_point(string line)
    {
        var ex = Assert.Throws<DeviceProtocolException>(() => VaisalaMoistureSensor.Parse(line, "ttyX", 1013.25));
        Assert.Contains("ttyX", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reads_the_emulator_through_garbage_and_silence()
    {
        await using var pair = await SerialPair.StartAsync();
        await using var emulator = new VaisalaDewPointEmulator(pair.Device) { DewPointC = -74.2, H2oPpm = 1.3 };
        emulator.Start();
        await using var sensor = new VaisalaMoistureSensor("h2o", pair.Host, TimeSpan.FromMilliseconds(300), 2, 1013.25, TimeProvider.System);

        Assert.Equal(new MoistureReading(-74.2, 1.3), await sensor.ReadAsync(CancellationToken.None));

        emulator.Faults.GarbledAnswers = 2;
        Assert.Equal(new MoistureReading(-74.2, 1.3), await sensor.ReadAsync(CancellationToken.None));
        Assert.Equal(4, emulator.Requests);

        emulator.Faults.Silent = true;
        var ex = await Assert.ThrowsAsync<DeviceTimeoutException>(async () => await sensor.ReadAsync(CancellationToken.None));
        Assert.Contains(pair.HostPort, ex.Message, StringComparison.Ordinal);

        emulator.Faults.Silent = false;
        Assert.Equal(-74.2, (await sensor.ReadAsync(CancellationToken.None)).DewPointC, 6);
    }
}
