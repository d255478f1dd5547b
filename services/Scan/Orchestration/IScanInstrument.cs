using Seccm.Contracts.Scan;

namespace Seccm.Scan.Orchestration;

/// <summary>What the scan needs from the other services for one pixel; implemented over MQTT by MqttScanInstrument.</summary>
internal interface IScanInstrument
{
    /// <summary>Raises the pipette by <paramref name="dzUm"/>.</summary>
    Task RetractAsync(double dzUm, CancellationToken cancellationToken);

    /// <summary>
    /// Moves in x, y (the pipette is retracted); with <paramref name="zUm"/> also to that height. Returns the Z the
    /// stage read back when the move ended.
    /// </summary>
    Task<double> MoveXyAsync(double xUm, double yUm, double? zUm, CancellationToken cancellationToken);

    /// <summary>Holds the approach bias and lowers the pipette until the contact current or the end of travel.</summary>
    Task<ApproachOutcome> ApproachAsync(string scanId, PixelSpec pixel, ApproachSpec approach, CancellationToken cancellationToken);

    /// <summary>
    /// Runs the recipe's technique at the pixel; the curves go to the data topics. Returns the sample flags the device set
    /// (null: none) and the potentiostat's take of the pixel.
    /// </summary>
    Task<Measured> MeasureAsync(string scanId, PixelSpec pixel, Recipe recipe, CancellationToken cancellationToken);

    /// <summary>Waits <paramref name="seconds"/> of instrument time (meniscus settling).</summary>
    Task SettleAsync(double seconds, CancellationToken cancellationToken);

    Task SetPumpAsync(bool on, string reason, CancellationToken cancellationToken);

    /// <summary>
    /// Changes whenever the link to the other services was lost and made again. A pixel measured across a change
    /// may have lost its contact event or curve data in a broker that died: it is measured again.
    /// </summary>
    long LinkEpoch { get; }
}

internal sealed record ApproachOutcome(bool Contact, double? ZUm, string Reason);

/// <summary>What a measurement of a pixel reported: the device's sample flags (null: none) and which take of the pixel it was.</summary>
internal sealed record Measured(string? SampleFlags, int Take);
