using Seccm.Devices.Emulators.MethodScript;
using Seccm.Devices.Serial;
using Seccm.Electrochemistry.Simulation;
using Seccm.Potentiostat.Drivers.MethodScript;
using Seccm.TestSupport;

namespace Seccm.Potentiostat.Tests.Drivers.MethodScript;

/// <summary>The driver on one end of a socat pair, the MethodSCRIPT emulator on the other.</summary>
internal sealed class EmulatedEmStat : IAsyncDisposable
{
    private readonly SocatPair _pair;

    private EmulatedEmStat(SocatPair pair, MethodScriptEmulator emulator, MethodScriptPotentiostat driver)
    {
        _pair = pair;
        Emulator = emulator;
        Driver = driver;
    }

    public MethodScriptEmulator Emulator { get; }

    public MethodScriptPotentiostat Driver { get; }

    public string HostPort => _pair.HostPort;

    /// <summary>An LTO grain under a 55 nm pipette (PHYSICS.md): E0 1.55 V, D 2.47e-11 cm^2/s, A 9.50e-11 cm^2.</summary>
    public static Electrode Lto { get; } = new(
        [new RedoxCouple(E0V: 1.55, K0CmPerS: 1, Alpha: 0.5, DCm2PerS: 2.47e-11, ConcentrationMolCm3: 0.0227)],
        AreaCm2: Math.PI * 55e-7 * 55e-7);

    /// <summary>The thin LTO film under a 5 um pipette of the paper's charge/discharge: 250 nm deep, two-phase plateau at 1.55 V.</summary>
    public static Electrode LtoFilm { get; } = new(
        [new RedoxCouple(E0V: 1.55, K0CmPerS: 2e-5, Alpha: 0.5, DCm2PerS: 2.47e-11, ConcentrationMolCm3: 0.0227, InteractionG: 1.8)],
        AreaCm2: Math.PI * 2.5e-4 * 2.5e-4, FilmThicknessCm: 250e-7, DoubleLayerF: 20e-6 * Math.PI * 2.5e-4 * 2.5e-4);

    /// <param name="electrode">What the emulator measures (default: <see cref="Lto"/>).</param>
    /// <param name="device">Which device the emulator is (default: an EmStat4 LR, as the driver's default family).</param>
    public static async Task<EmulatedEmStat> StartAsync(bool realTime = false, MethodScriptOptions? options = null, Electrode? electrode = null,
        MethodScriptDevice device = MethodScriptDevice.EmStat4Lr)
    {
        var pair = await SocatPair.StartAsync();
        options ??= MethodScriptOptions.Default with { ChunkSize = 64 };
        var deviceLine = StreamSerialLine.OpenPort(pair.DevicePort, options.Family.DefaultLine);
        var emulator = new MethodScriptEmulator(deviceLine, () => electrode ?? Lto, TimeProvider.System, realTime) { Device = device };
        emulator.Start();
        var driver = MethodScriptPotentiostat.Open(pair.HostPort, options.Family.DefaultLine, options, TimeProvider.System);
        return new EmulatedEmStat(pair, emulator, driver);
    }

    public async ValueTask DisposeAsync()
    {
        await Driver.DisposeAsync();
        await Emulator.DisposeAsync();
        _pair.Dispose();
    }
}
