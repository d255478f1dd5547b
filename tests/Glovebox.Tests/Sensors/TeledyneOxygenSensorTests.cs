using Seccm.Devices;
using Seccm.Devices.Emulators.Glovebox;
using Seccm.Glovebox.Sensors;

namespace Seccm.Glovebox.Tests.Sensors;

public sealed class TeledyneOxygenSensorTests
{
    [Theory]
    [InlineData("ST, 0.00 PPM, 0", 0)]
    [InlineData("ST,12.5 PPM", 12.5)]
    public void Parses_ST_lines(string line, double expectedPpm)
    {
        Assert.Equal(expectedPpm, TeledyneOxygenSensor.Parse(line, "ttyX"), 9);
    }

    [Theory]
    [InlineData("AL, 1.0 PPM")]
    [InlineData("ST, x PPM")]
    [InlineData("ST, 1.0 %")]
    [InlineData("")]
    public void Rejects_other_lines(string line)
    {
        Assert.Throws<DeviceProtocolException>(() => TeledyneOxygenSensor.Parse(line, "ttyX"));
    }

    [Fact]
    public async Task Keeps_the_latest_value_skips_garbage_and_reports_silence_then_recovers()
    {
        await using var pair = await SerialPair.StartAsync();
        await using var emulator = new TeledyneOxygenEmulator(pair.Device) { O2Ppm = 0.77, Interval = TimeSpan.FromMilliseconds(50) };
        emulator.Start();
        await using var sensor = new TeledyneOxygenSensor("o2", pair.Host, TimeSpan.FromMilliseconds(400), TimeProvider.System);

        Assert.Equal(0.77, await Eventually(sensor, v => v == 0.77), 6);

        emulator.Faults.GarbledAnswers = 3;
        emulator.O2Ppm = 2.5;
        Assert.Equal(2.5, await Eventually(sensor, v => v == 2.5), 6);

        emulator.Faults.Silent = true;
        var ex = await EventuallyFails(sensor);
        Assert.Contains(pair.HostPort, ex.Message, StringComparison.Ordinal);

        emulator.Faults.Silent = false;
        emulator.O2Ppm = 0.9;
        Assert.Equal(0.9, await Eventually(sensor, v => v == 0.9), 6);
    }

    private static async Task<double> Eventually(TeledyneOxygenSensor sensor, Func<double, bool> accept)
    {
        // Hang detection only: the emulator sends every 50 ms.
        for (var i = 0; i < 200; i++)
        {
            try
            {
                var v = await sensor.ReadO2PpmAsync(CancellationToken.None);
                if (accept(v))
                {
                    return v;
                }
            }
            catch (DeviceTimeoutException)
            {
            }
            await Task.Delay(25);
        }
        throw new TimeoutException("the streaming sensor never reported the expected value");
    }

    private static async Task<DeviceTimeoutException> EventuallyFails(TeledyneOxygenSensor sensor)
    {
        for (var i = 0; i < 200; i++)
        {
            try
            {
                await sensor.ReadO2PpmAsync(CancellationToken.None);
            }
            catch (DeviceTimeoutException ex)
            {
                return ex;
            }
            await Task.Delay(25);
        }
        throw new TimeoutException("a silent analyser was never reported");
    }
}
