using Microsoft.Extensions.Time.Testing;
using Seccm.Devices.Emulators.PiGcs;
using Seccm.Devices.Serial;
using Seccm.TestSupport;

namespace Seccm.Devices.Tests.Emulators.PiGcs;

/// <summary>
/// PI's own GCS library (PIPython, extracted at run time from the vendor's repository, never copied here) drives the
/// emulator over a socat pair: if the emulator disagreed with a real controller on the queries a host library uses to
/// learn it (*IDN?, CSV?, SAI? ALL, HLP?, VER?) or on the #5 motion bits, PIPython would fail here.
/// </summary>
[Trait("Category", "VendorCode")]
public sealed class PiPythonInteropTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(2);

    // Connects through PIPython's serial gateway and its GCS device class, which picks GCS 2 or 3 from CSV?.
    private const string Connect = """
        import sys
        from pipython.pidevice.interfaces.piserial import PISerial
        from pipython.pidevice.gcsmessages import GCSMessages
        from pipython.pidevice.gcscommands import GCSCommands
        gateway = PISerial(sys.argv[1], 115200)
        device = GCSCommands(GCSMessages(gateway))
        """;

    /// <summary>Pins: PIPython learns the controller (CSV? 2.0, SAI? ALL order, HLP?, VER?) and checks motion with #5 and ONT?.</summary>
    [Fact]
    public async Task PIPython_learns_the_controller_and_checks_motion_against_the_emulator()
    {
        using var pipython = VendorCode.ExtractTarball("PI-PhysikInstrumente/PIPython", "pipython-2.13.0.2.tar.gz");
        using var pair = await SocatPair.StartAsync();
        var time = new FakeTimeProvider();
        await using var line = StreamSerialLine.OpenPort(pair.DevicePort, 115200);
        // The controller's axis order is C, A, B: PIPython must map the #5 bits through SAI? ALL as we do.
        await using var emulator = new PiGcsEmulator(line, time, new PiGcsEmulatorOptions
        {
            Axes = [new("C", 0, 60, 60), new("A", 0, 100, 50), new("B", 0, 100, 50)],
        }).Start();

        var moving = pipython.RunPython(Connect + """

            print("IDN", device.qIDN().strip())
            print("GCS30", device.isgcs30 if hasattr(device, "isgcs30") else type(device.gcscommands).__name__)
            print("AXES", ",".join(device.allaxes))
            print("HLP", "MOV" in device.qHLP())
            print("VER", device.qVER().strip().splitlines()[0])
            device.SVO({"A": True, "B": True, "C": True})
            device.MOV("A", 70.0)
            moving = device.IsMoving()
            print("MOVING", ",".join(a for a in device.allaxes if moving[a]))
            print("ONT", device.qONT("A")["A"])
            gateway.close()
            """, "pipython-2.13.0.2", [pair.HostPort], Hang);
        Assert.Contains("IDN (c)2026 Physik Instrumente", moving, StringComparison.Ordinal);
        Assert.Contains("GCS2Commands", moving, StringComparison.Ordinal);
        Assert.Contains("AXES C,A,B", moving, StringComparison.Ordinal);
        Assert.Contains("HLP True", moving, StringComparison.Ordinal);
        Assert.Contains("VER E-727", moving, StringComparison.Ordinal);
        Assert.Contains("MOVING A\n", moving.Replace("\r", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("ONT False", moving, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromSeconds(10));
        var arrived = pipython.RunPython(Connect + """

            moving = device.IsMoving()
            print("MOVING", ",".join(a for a in device.allaxes if moving[a]) or "none")
            print("ONT", device.qONT("A")["A"])
            print("POS", device.qPOS("A")["A"])
            gateway.close()
            """, "pipython-2.13.0.2", [pair.HostPort], Hang);
        Assert.Contains("MOVING none", arrived, StringComparison.Ordinal);
        Assert.Contains("ONT True", arrived, StringComparison.Ordinal);
        Assert.Contains("POS 70.0", arrived, StringComparison.Ordinal);
    }
}
