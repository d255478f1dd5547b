using Seccm.Devices.Serial;
using Seccm.TestSupport;

namespace Seccm.Glovebox.Tests.Sensors;

/// <summary>A socat pair with both ends open: the driver under test gets <see cref="Host"/>, the emulator <see cref="Device"/>.</summary>
public sealed class SerialPair : IAsyncDisposable
{
    private readonly SocatPair _pair;

    private SerialPair(SocatPair pair, StreamSerialLine host, StreamSerialLine device)
    {
        _pair = pair;
        Host = host;
        Device = device;
    }

    public StreamSerialLine Host { get; }

    public StreamSerialLine Device { get; }

    public string HostPort => _pair.HostPort;

    public static async Task<SerialPair> StartAsync(int baudRate = 9600)
    {
        var pair = await SocatPair.StartAsync();
        return new SerialPair(pair, StreamSerialLine.OpenPort(pair.HostPort, baudRate), StreamSerialLine.OpenPort(pair.DevicePort, baudRate));
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Device.DisposeAsync();
        _pair.Dispose();
    }
}
