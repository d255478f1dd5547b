using System.ComponentModel.DataAnnotations;

namespace Seccm.Scan;

/// <summary>Settings of the scan service (section <c>Scan</c>).</summary>
public sealed class ScanOptions
{
    public const string SectionName = "Scan";

    /// <summary>Where the checkpoint of the active scan lives (a volume in containers).</summary>
    [Required]
    public string StateDirectory { get; set; } = Path.Combine("seccm-data", "scan");

    /// <summary>How long a stage or glovebox command may take before the scan pauses.</summary>
    [Range(1, 3600, ErrorMessage = "Scan:CommandTimeoutSeconds must be between 1 and 3600.")]
    public double CommandTimeoutSeconds { get; set; } = 30;

    /// <summary>After a restart, how long to wait for the other services before resuming the checkpoint anyway (it then pauses on the interlock).</summary>
    [Range(0, 600, ErrorMessage = "Scan:ResumeGraceSeconds must be between 0 and 600.")]
    public double ResumeGraceSeconds { get; set; } = 10;
}
