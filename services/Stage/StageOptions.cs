using System.ComponentModel.DataAnnotations;
using Seccm.Devices.Serial;
using Seccm.Stage.Drivers;

namespace Seccm.Stage;

/// <summary>Settings of the stage service (section <c>Stage</c>, env <c>SECCM__STAGE__DRIVER</c> etc.).</summary>
public sealed class StageOptions : IValidatableObject
{
    public const string Section = "Stage";
    public const string Simulated = "simulated";
    public const string PiGcs = "pi-gcs";

    /// <summary><c>simulated</c> (default) or <c>pi-gcs</c>.</summary>
    [Required]
    public string Driver { get; set; } = Simulated;

    /// <summary>Serial port of the PI controller (pi-gcs).</summary>
    public string? Port { get; set; }

    /// <summary>Serial line of the controller (pi-gcs); unset keys take PI's RS-232 default, 115200 8N1.</summary>
    [Range(1200, 4_000_000, ErrorMessage = "Stage:BaudRate must be between 1200 and 4000000.")]
    public int BaudRate { get; set; } = 115200;

    public int? DataBits { get; set; }

    /// <summary>none, even, odd, mark or space.</summary>
    public string? Parity { get; set; }

    /// <summary>1, 1.5 or 2.</summary>
    public string? StopBits { get; set; }

    /// <summary>The serial line these options describe (valid when <see cref="Validate"/> found nothing).</summary>
    public SerialLineSettings SerialLine() => SerialLineSettings.Parse(Section, PiGcsStageOptions.DefaultLine, BaudRate, DataBits, Parity, StopBits).Settings
        ?? throw new InvalidOperationException($"The {Section} serial line settings are invalid; validate the options first.");

    /// <summary>Controller axis identifiers of X, Y and Z (pi-gcs).</summary>
    public string AxisX { get; set; } = "1";
    public string AxisY { get; set; } = "2";
    public string AxisZ { get; set; } = "3";

    [Range(10, 60_000, ErrorMessage = "Stage:AnswerTimeoutMs must be between 10 and 60000.")]
    public int AnswerTimeoutMs { get; set; } = 1000;

    /// <summary>Velocity of move, retract and home, um/s.</summary>
    [Range(0.001, 10_000, ErrorMessage = "Stage:MoveVelocityUmPerS must be between 0.001 and 10000.")]
    public double MoveVelocityUmPerS { get; set; } = 100;

    /// <summary>Position telemetry rate while moving; an approach reacts to the end of travel at this rate.</summary>
    [Range(20, 100, ErrorMessage = "Stage:TelemetryMovingHz must be between 20 and 100.")]
    public double TelemetryMovingHz { get; set; } = 50;

    [Range(0.1, 10, ErrorMessage = "Stage:TelemetryIdleHz must be between 0.1 and 10.")]
    public double TelemetryIdleHz { get; set; } = 1;

    /// <summary>Home position; null means mid-travel in X and Y and Z at the top (retracted).</summary>
    public double? HomeXUm { get; set; }
    public double? HomeYUm { get; set; }
    public double? HomeZUm { get; set; }

    /// <summary>
    /// Simulated driver: where the coarse Z drive has put the piezo's range. The sample surface is at Z = 0, so the
    /// default -20 puts it 20 um above the bottom of the 60 um travel, where an approach can reach it.
    /// </summary>
    public double SimulatedCoarseZUm { get; set; } = -20;

    [Range(0, 1000, ErrorMessage = "Stage:SimulatedNoiseNmRms must be between 0 and 1000.")]
    public double SimulatedNoiseNmRms { get; set; } = 1;

    public int SimulatedSeed { get; set; } = 1;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Driver is not (Simulated or PiGcs))
        {
            yield return new ValidationResult($"Stage:Driver '{Driver}' is unknown: use '{Simulated}' or '{PiGcs}'.", [nameof(Driver)]);
        }
        if (Driver == PiGcs && string.IsNullOrWhiteSpace(Port))
        {
            yield return new ValidationResult("Stage:Port is required with Stage:Driver = pi-gcs (e.g. /dev/ttyUSB0).", [nameof(Port)]);
        }
        foreach (var problem in SerialLineSettings.Parse(Section, PiGcsStageOptions.DefaultLine, BaudRate, DataBits, Parity, StopBits).Problems)
        {
            yield return new ValidationResult(problem, [nameof(BaudRate)]);
        }
        foreach (var (name, id) in new[] { ("AxisX", AxisX), ("AxisY", AxisY), ("AxisZ", AxisZ) })
        {
            if (string.IsNullOrWhiteSpace(id) || id.Any(char.IsWhiteSpace))
            {
                yield return new ValidationResult($"Stage:{name} '{id}' must be a controller axis identifier without spaces.", [name]);
            }
        }
    }
}
