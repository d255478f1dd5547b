using Seccm.Devices.Serial;
using Seccm.TestSupport;

namespace Seccm.Glovebox.Tests.Sensors;

/// <summary>A socat pair with both ends open: the driver under test gets <see cref="Host"/>, the emulator <see cref="Device"/>.</summary>
public sealed class SerialPair : IAsyncDisposable
{
    private readonly SocatPair _pair;

    private readonly StreamSerialLine? _host;

    private SerialPair(SocatPair pair, StreamSerialLine? host, StreamSerialLine device)
    {
        _pair = pair;
        _host = host;
        Device = device;
    }

    public StreamSerialLine Host => _host ?? throw new InvalidOperationException("This pair left the host end for the service to open.");

    public StreamSerialLine Device { get; }

    public string HostPort => _pair.HostPort;

    /// <param name="baudRate">Baud rate of both ends.</param>
    /// <param name="openHost">False leaves <see cref="HostPort"/> closed for code under test that opens it by path.</param>
    public static async Task<SerialPair> StartAsync(int baudRate = 9600, bool openHost = true)
    {
        var pair = await SocatPair.StartAsync();
        return new SerialPair(pair, openHost ? StreamSerialLine.OpenPort(pair.HostPort, baudRate) : null, StreamSerialLine.OpenPort(pair.DevicePort, baudRate));
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
        await Device.DisposeAsync();
        _pair.Dispose();
    }
}
