using System.Text;
using Seccm.Devices;
using Seccm.Devices.Serial;
using Seccm.TestSupport;

namespace Seccm.Devices.Tests.Serial;

public sealed class StreamSerialLineTests
{
    [Fact]
    public async Task Lines_cross_a_socat_pair_in_both_directions()
    {
        using var pair = await SocatPair.StartAsync();
        await using var host = StreamSerialLine.OpenPort(pair.HostPort, 115200);
        await using var device = StreamSerialLine.OpenPort(pair.DevicePort, 115200);

        await host.WriteLineAsync("POS? 1", "\n", CancellationToken.None);
        Assert.Equal("POS? 1", await device.ReadLineAsync(TimeSpan.FromSeconds(5), CancellationToken.None));

        await device.WriteAsync(Encoding.ASCII.GetBytes("1=10.5\r\n"), CancellationToken.None);
        Assert.Equal("1=10.5", await host.ReadLineAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
    }

    [Fact]
    public async Task A_silent_device_times_out_instead_of_hanging()
    {
        using var pair = await SocatPair.StartAsync();
        await using var host = StreamSerialLine.OpenPort(pair.HostPort, 115200);
        await using var device = StreamSerialLine.OpenPort(pair.DevicePort, 115200);

        var ex = await Assert.ThrowsAsync<DeviceTimeoutException>(
            async () => await host.ReadLineAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None));
        Assert.Contains(pair.HostPort, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Opening_a_missing_port_names_the_port()
    {
        var ex = Assert.Throws<DeviceException>(() => StreamSerialLine.OpenPort("/tmp/no-such-port-seccm", 9600));
        Assert.Contains("/tmp/no-such-port-seccm", ex.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }
}
