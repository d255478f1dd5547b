using Seccm.Devices.Emulators.MethodScript;
using Seccm.Devices.Serial;
using Seccm.Electrochemistry.Simulation;
using Seccm.TestSupport;

namespace Seccm.Devices.Tests.Emulators.MethodScript;

/// <summary>
/// PalmSens' own Python example code (MethodSCRIPT_Examples: palmsens.instrument, palmsens.mscript; extracted at run
/// time from the vendor's repository, never copied here) talks to the emulator over a socat pair: it asks the device
/// type, sends the vendor's own nscans(3) CV script, and parses the reply with its own grammar. If the emulator
/// disagreed with a real EmStat on any of these, PalmSens' parser would fail or see another structure.
/// </summary>
[Trait("Category", "VendorCode")]
public sealed class PalmSensParserTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(2);

    private const string Check = """
        import math, sys
        from palmsens import instrument, mscript, serialport
        with serialport.Serial(sys.argv[1], 921600, 5) as comm:
            device = instrument.Instrument(comm)
            print("TYPE", device.get_device_type())
            device.send_script(sys.argv[2])
            lines = device.readlines_until_end()
        curves = mscript.parse_result_lines(lines)
        print("TOP", curves.scope_type.name, len(curves.loops))
        for i, scan in enumerate(curves.loops):
            print("SCAN", i, scan.scope_type.name, len(scan.packages))
        currents = [v for scan in curves.loops for v in scan.get_column(1)]
        print("NAN", sum(1 for v in currents if math.isnan(v.value)))
        print("STATUS", ",".join(mscript.metadata_status_to_text(v.metadata["status"]) for v in currents if v.metadata["status"]))
        print("RANGE", mscript.metadata_range_to_text(str(device.get_device_type()), currents[0].type, currents[0].metadata["range"]))
        """;

    /// <summary>
    /// Pins: the emulator's nscans(3) CV reads, with PalmSens' parser, as one measurement loop of three scans ('C' ... '-');
    /// a NaN current parses as NaN; overload and underload status bits and the EmStat4 range code read as PalmSens names them.
    /// </summary>
    [Fact]
    public async Task PalmSens_parser_reads_the_emulators_multi_scan_cv_nan_and_status()
    {
        using var vendor = VendorCode.Extract("PalmSens/MethodSCRIPT_Examples", "Example_Python/Example_Python/palmsens",
            "Example_Python/Example_Python/scripts/example_cv_nscans.mscr");
        using var pair = await SocatPair.StartAsync();
        await using var line = StreamSerialLine.OpenPort(pair.DevicePort, 921600);
        // The vendor's script: a CA loop without packages (autoranging), then meas_loop_cv ... nscans(3) from 0 to 0.5, -0.5 V in 10 mV.
        await using var emulator = new MethodScriptEmulator(line, () => new Electrode([], 1e-10), realTime: false)
        {
            NanCurrent = (loop, k) => loop == 1 && k == 5,
            ExtraStatus = (loop, k) => loop == 1 && k == 7 ? 0x2 : loop == 1 && k == 150 ? 0x4 : 0,
        };
        emulator.Start();

        var output = vendor.RunPython(Check, "Example_Python/Example_Python",
            [pair.HostPort, Path.Combine(vendor.Directory, "Example_Python/Example_Python/scripts/example_cv_nscans.mscr")], Hang)
            .Replace("\r", "", StringComparison.Ordinal);

        Assert.True(output.Contains("TYPE EmStat4 LR\n", StringComparison.Ordinal), output);
        // The empty CA loop is dropped by the parser; the CV's loop is the top, holding three scans of 200 steps (+1 at the end).
        Assert.True(output.Contains("TOP MEAS_LOOP 3\n", StringComparison.Ordinal), output);
        Assert.True(output.Contains("SCAN 0 SCAN 200\n", StringComparison.Ordinal), output);
        Assert.True(output.Contains("SCAN 1 SCAN 200\n", StringComparison.Ordinal), output);
        Assert.True(output.Contains("SCAN 2 SCAN 201\n", StringComparison.Ordinal), output);
        Assert.True(output.Contains("NAN 1\n", StringComparison.Ordinal), output);
        Assert.True(output.Contains("STATUS OVERLOAD,UNDERLOAD\n", StringComparison.Ordinal), output);
        Assert.True(output.Contains("RANGE 100 uA\n", StringComparison.Ordinal), output);
    }
}
