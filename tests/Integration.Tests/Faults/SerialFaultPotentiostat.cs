using Seccm.Devices.Emulators.MethodScript;
using Seccm.Devices.Emulators.PiGcs;
using Seccm.Devices.Serial;
using Seccm.Electrochemistry.Samples;
using Seccm.Electrochemistry.Simulation;
using Seccm.TestSupport;

namespace Seccm.Integration.Tests.Faults;

/// <summary>
/// The potentiostat of a <see cref="ScanRig"/> as a real serial device: the potentiostat service runs its MethodSCRIPT
/// driver on one end of a socat pair and the EmStat4 emulator answers on the other end, in the test process. The
/// emulator's cell is the world the PI controller emulator moves in (<see cref="SerialFaultStage"/>: sample surface at
/// Z = 0): before every sample of a hold it asks where the pipette is, and the meniscus touches at or below the LTO
/// film's height there plus the meniscus, as the simulated potentiostat decides it.
/// </summary>
internal sealed class SerialFaultPotentiostat : IAsyncDisposable
{
    /// <summary>The simulated potentiostat's defaults (Potentiostat:MeniscusUm, NoiseRmsA, Seed, SampleSeed).</summary>
    private const double MeniscusUm = 0.05;
    private const double NoiseRmsA = 0.2e-12;

    private readonly SocatPair _pair;

    private SerialFaultPotentiostat(SocatPair pair, MethodScriptEmulator emulator)
    {
        _pair = pair;
        Emulator = emulator;
    }

    public MethodScriptEmulator Emulator { get; }

    public static async Task<SerialFaultPotentiostat> StartAsync(PiGcsEmulator stage)
    {
        var pair = await SocatPair.StartAsync();
        var cell = new PipetteCell(stage, SampleCatalog.Create("lto"), new PipetteSettings(NoiseRmsA: NoiseRmsA));
        var emulator = new MethodScriptEmulator(StreamSerialLine.OpenPort(pair.DevicePort, 921600), cell.Wetted, TimeProvider.System);
        emulator.Start();
        return new SerialFaultPotentiostat(pair, emulator);
    }

    /// <summary>The potentiostat service's settings for the real driver on the host end of the pair (an EmStat4 LR).</summary>
    public Dictionary<string, string> PotentiostatEnvironment => new()
    {
        ["SECCM__POTENTIOSTAT__DRIVER"] = "methodscript",
        ["SECCM__POTENTIOSTAT__PORT"] = _pair.HostPort,
        ["SECCM__POTENTIOSTAT__DEVICE"] = "emstat4-lr",
    };

    public async ValueTask DisposeAsync()
    {
        await Emulator.DisposeAsync();
        _pair.Dispose();
    }

    /// <summary>
    /// What the droplet wets now: the film where the meniscus first touched in this contact (one electrode while the
    /// pipette stays over that spot, so the emulator sees the touch once), or the dry pipette.
    /// </summary>
    private sealed class PipetteCell(PiGcsEmulator stage, Sample sample, PipetteSettings pipette)
    {
        private readonly Electrode _dry = new([], pipette.AreaCm2, NoiseRmsA: NoiseRmsA, NoiseSeed: pipette.NoiseSeed);
        private (double XUm, double YUm, Electrode Electrode)? _spot;

        public Electrode Wetted()
        {
            var (x, y, z) = (stage.PositionUm("1"), stage.PositionUm("2"), stage.PositionUm("3"));
            if (z > (sample.HeightNm(x, y) / 1000) + MeniscusUm)
            {
                _spot = null;
                return _dry;
            }
            // The stage moved over to another pixel since: that is another spot, never polarised.
            if (_spot is not { } spot || Math.Abs(spot.XUm - x) > 1e-3 || Math.Abs(spot.YUm - y) > 1e-3)
            {
                _spot = spot = (x, y, sample.ElectrodeAt(x, y, pipette));
            }
            return spot.Electrode;
        }
    }
}
