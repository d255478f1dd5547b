using System.ComponentModel.DataAnnotations;

namespace Seccm.Diffusion;

/// <summary>Settings of the diffusion service (section <c>Diffusion</c>, env <c>SECCM__DIFFUSION__OUTPUTDIRECTORY</c> etc.).</summary>
public sealed class DiffusionOptions
{
    public const string Section = "Diffusion";

    /// <summary>Where map files go: <c>{OutputDirectory}/{scanId}/</c>, or the directory itself with <see cref="FlatOutput"/>.</summary>
    [Required(ErrorMessage = "Diffusion:OutputDirectory must name a directory for the map files.")]
    public string OutputDirectory { get; set; } = "seccm-data/maps";

    /// <summary>Write the files directly into <see cref="OutputDirectory"/> (one scan per directory, e.g. <c>seccm demo --out</c>).</summary>
    public bool FlatOutput { get; set; }

    /// <summary>
    /// Where curve chunks are spilled while a scan runs, one file per worker and scan, kept across restarts (a restarted
    /// worker replays it); default: the system temp directory. Give it a persistent directory in a container.
    /// </summary>
    public string? SpillDirectory { get; set; }

    /// <summary>Spill files of this worker older than this are deleted at start (scans that ended while it was not running).</summary>
    [Range(0.01, 24 * 365, ErrorMessage = "Diffusion:SpillKeepHours must be between 0.01 and 8760.")]
    public double SpillKeepHours { get; set; } = 48;

    /// <summary>How long a pixel's done event waits for chunks still missing before the pixel is analysed with what arrived.</summary>
    [Range(0.01, 3600, ErrorMessage = "Diffusion:CurveWaitS must be between 0.01 and 3600.")]
    public double CurveWaitS { get; set; } = 30;

    /// <summary>
    /// At scan end, how long to wait for missing pixel results before asking the scan which pixels it recorded and the
    /// potentiostat to replay the curves of those without a result (a broker killed mid-scan loses accepted messages).
    /// </summary>
    [Range(0, 600, ErrorMessage = "Diffusion:ReconcileAfterS must be between 0 and 600.")]
    public double ReconcileAfterS { get; set; } = 3;

    /// <summary>How long the reconciliation waits for the replayed curves of a pixel before analysing it with what it has.</summary>
    [Range(0.1, 3600, ErrorMessage = "Diffusion:ReplayWaitS must be between 0.1 and 3600.")]
    public double ReplayWaitS { get; set; } = 20;

    /// <summary>How long the export at scan end waits for the results of pixels other workers are still analysing.</summary>
    [Range(0, 3600, ErrorMessage = "Diffusion:ExportWaitS must be between 0 and 3600.")]
    public double ExportWaitS { get; set; } = 60;

    /// <summary>Hold scans: the current of a pixel is the mean over this last fraction of the hold (after the transient).</summary>
    [Range(0.01, 1, ErrorMessage = "Diffusion:HoldTailFraction must be between 0.01 and 1.")]
    public double HoldTailFraction { get; set; } = 0.2;

    /// <summary>Scans whose state (results, spilled curves) is kept for <c>cmd/export</c>; older ones are dropped.</summary>
    [Range(1, 100, ErrorMessage = "Diffusion:MaxScansKept must be between 1 and 100.")]
    public int MaxScansKept { get; set; } = 3;

    /// <summary>Pixels shown in <c>example_cvs.png</c> (lowest, median, highest D).</summary>
    [Range(0, 8, ErrorMessage = "Diffusion:ExampleCvPixels must be between 0 and 8.")]
    public int ExampleCvPixels { get; set; } = 3;

    /// <summary>
    /// -3 dB bandwidth (Hz) of the current amplifier of the potentiostat whose curves this service analyses; the wave fit
    /// models that filter. The default is our potentiostat's pA range (its simulated instrument declares it); 0 for an
    /// ideal amplifier. Files analysed offline (<c>seccm analyze</c>) assume nothing unless given.
    /// </summary>
    [Range(0, 1e6, ErrorMessage = "Diffusion:MeasurementBandwidthHz must be between 0 (ideal amplifier) and 1e6.")]
    public double MeasurementBandwidthHz { get; set; } = Seccm.Electrochemistry.Samples.SampleDefaults.CurrentAmplifierBandwidthHz;

    /// <summary>
    /// Uncompensated resistance (ohm) of the cell whose curves this service analyses, when known; the wave model puts the
    /// electrode at E - R_u i. Unset (the default): fitted where the waves show what the model without it cannot follow,
    /// otherwise taken as negligible (a nanopipette at pA currents: R_u i is far below a millivolt).
    /// </summary>
    [Range(0, 1e12, ErrorMessage = "Diffusion:UncompensatedResistanceOhm must be between 0 and 1e12 ohm (or unset to fit it).")]
    public double? UncompensatedResistanceOhm { get; set; }
}
