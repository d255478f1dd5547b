using System.ComponentModel.DataAnnotations;
using Seccm.Devices.Serial;
using Seccm.Electrochemistry.Samples;
using Seccm.Potentiostat.Drivers.MethodScript;

namespace Seccm.Potentiostat;

/// <summary>Settings of the potentiostat service (section <c>Potentiostat</c>, env <c>SECCM__POTENTIOSTAT__DRIVER</c> etc.).</summary>
public sealed class PotentiostatOptions : IValidatableObject
{
    public const string Section = "Potentiostat";
    public const string Simulated = "simulated";
    public const string MethodScript = "methodscript";

    /// <summary><c>simulated</c> (default) or <c>methodscript</c> (PalmSens EmStat Pico / EmStat4 on <see cref="Port"/>).</summary>
    [Required]
    public string Driver { get; set; } = Simulated;

    /// <summary>Serial port of the potentiostat (methodscript), e.g. /dev/ttyUSB0.</summary>
    public string? Port { get; set; }

    /// <summary>
    /// The MethodSCRIPT device family (methodscript): <c>emstat4-lr</c> (default: the pA currents of a nanopipette need its
    /// 1 nA range), <c>emstat4-hr</c> or <c>emstat-pico</c>. It sets the default serial line; the device's version reply
    /// must name the same family, whose scripts and limits then apply.
    /// </summary>
    public string Device { get; set; } = MethodScriptFamily.EmStat4Lr.ConfigName;

    /// <summary>Serial line; unset keys take the family's: 230400 8N1 for the EmStat Pico, 921600 8N1 for the EmStat4.</summary>
    [Range(9600, 4_000_000, ErrorMessage = "Potentiostat:BaudRate must be between 9600 and 4000000.")]
    public int? BaudRate { get; set; }

    public int? DataBits { get; set; }

    /// <summary>none, even, odd, mark or space.</summary>
    public string? Parity { get; set; }

    /// <summary>1, 1.5 or 2.</summary>
    public string? StopBits { get; set; }

    /// <summary>The configured family (valid after validation).</summary>
    internal MethodScriptFamily Family => MethodScriptFamily.FromConfig(Device)
        ?? throw new InvalidOperationException($"Potentiostat:Device '{Device}' is unknown; validate the options first.");

    /// <summary>The serial line these options describe (valid after validation).</summary>
    internal SerialLineSettings Line => SerialLineSettings.Parse(Section, Family.DefaultLine, BaudRate, DataBits, Parity, StopBits).Settings
        ?? throw new InvalidOperationException("The Potentiostat serial line settings are invalid; validate the options first.");

    [Range(50, 60_000, ErrorMessage = "Potentiostat:ResponseTimeoutMs must be between 50 and 60000.")]
    public int ResponseTimeoutMs { get; set; } = 3000;

    /// <summary>Simulated driver: the sample under the pipette (lto, lco, lfp, substrate) and its seed.</summary>
    public string Sample { get; set; } = "lto";

    public int SampleSeed { get; set; } = 1;

    /// <summary>Simulated driver: seed of the current noise; same seed, same curves.</summary>
    public int Seed { get; set; } = 1;

    [Range(0, 1e-9, ErrorMessage = "Potentiostat:NoiseRmsA must be between 0 and 1e-9 A.")]
    public double NoiseRmsA { get; set; } = 0.2e-12;

    /// <summary>Simulated driver: pipette opening radius (55 nm nanopipette; 2500 for the 5 um charge/discharge pipette).</summary>
    [Range(1, 50_000, ErrorMessage = "Potentiostat:PipetteRadiusNm must be between 1 and 50000 nm.")]
    public double PipetteRadiusNm { get; set; } = SampleDefaults.PipetteRadiusNm;

    /// <summary>Simulated driver: the droplet touches when the pipette is this close above the surface.</summary>
    [Range(0, 10, ErrorMessage = "Potentiostat:MeniscusUm must be between 0 and 10 um.")]
    public double MeniscusUm { get; set; } = 0.05;

    /// <summary>Samples per data message.</summary>
    [Range(16, 100_000, ErrorMessage = "Potentiostat:ChunkSamples must be between 16 and 100000.")]
    public int ChunkSamples { get; set; } = 1000;

    /// <summary>Data messages that may wait in the MQTT queue before the measurement waits for them (bounds memory).</summary>
    [Range(1, 10_000, ErrorMessage = "Potentiostat:MaxQueuedDataMessages must be between 1 and 10000.")]
    public int MaxQueuedDataMessages { get; set; } = 64;

    /// <summary>
    /// Where the raw curves of every scan are kept, <c>{DataDirectory}/{instrument}/{scanId}.curves</c> (a volume in
    /// containers): the instrument's data, and what <c>cmd/replay</c> publishes again after a broker lost chunks.
    /// </summary>
    [Required(ErrorMessage = "Potentiostat:DataDirectory must name a directory for the raw curve files.")]
    public string DataDirectory { get; set; } = Path.Combine("seccm-data", "potentiostat");

    /// <summary>Raw-curve files older than this are deleted (checked at start and when a scan starts writing).</summary>
    [Range(0.01, 36_500, ErrorMessage = "Potentiostat:RawCurveKeepDays must be between 0.01 and 36500.")]
    public double RawCurveKeepDays { get; set; } = 90;

    /// <summary>The raw-curve files together may take this much; beyond it the oldest go (the scan being written stays).</summary>
    [Range(0.001, 1_000_000, ErrorMessage = "Potentiostat:RawCurveMaxGb must be between 0.001 and 1000000.")]
    public double RawCurveMaxGb { get; set; } = 50;

    /// <summary>Below this much free space on the raw-curve disk the status says so and a warning is logged.</summary>
    [Range(0, 1_000_000, ErrorMessage = "Potentiostat:RawCurveLowFreeGb must be between 0 and 1000000.")]
    public double RawCurveLowFreeGb { get; set; } = 5;

    [Range(0.5, 50, ErrorMessage = "Potentiostat:TelemetryHz must be between 0.5 and 50.")]
    public double TelemetryHz { get; set; } = 5;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Driver is not (Simulated or MethodScript))
        {
            yield return new ValidationResult($"Potentiostat:Driver '{Driver}' is unknown: use '{Simulated}' or '{MethodScript}'.", [nameof(Driver)]);
        }
        if (Driver == MethodScript && string.IsNullOrWhiteSpace(Port))
        {
            yield return new ValidationResult("Potentiostat:Port is required with Potentiostat:Driver = methodscript (e.g. /dev/ttyUSB0).", [nameof(Port)]);
        }
        if (Driver == MethodScript)
        {
            var family = MethodScriptFamily.FromConfig(Device);
            if (family is null)
            {
                yield return new ValidationResult(
                    $"Potentiostat:Device '{Device}' is unknown: use one of {string.Join(", ", MethodScriptFamily.All.Select(f => f.ConfigName))}.", [nameof(Device)]);
            }
            else
            {
                foreach (var problem in SerialLineSettings.Parse(Section, family.DefaultLine, BaudRate, DataBits, Parity, StopBits).Problems)
                {
                    yield return new ValidationResult(problem, [nameof(Line)]);
                }
            }
        }
        if (Driver == Simulated && !SampleCatalog.Names.Contains(Sample))
        {
            yield return new ValidationResult($"Potentiostat:Sample '{Sample}' is unknown: use one of {string.Join(", ", SampleCatalog.Names)}.", [nameof(Sample)]);
        }
    }
}
