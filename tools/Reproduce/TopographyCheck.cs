using Seccm.Contracts.Scan;
using Seccm.Electrochemistry.Samples;

namespace Seccm.Host.Reproduce;

/// <summary>Recovered topography (contact z of each pixel) against the simulated surface height.</summary>
internal sealed record TopographyComparison(int Pixels, double RmsErrorNm, double MaxAbsErrorNm, double MeanErrorNm, double MaxRecoveredNm, double StepNm);

internal static class TopographyCheck
{
    /// <summary>The simulated droplet touches this far above the surface (Potentiostat:MeniscusUm default).</summary>
    public const double MeniscusNm = 50;

    /// <summary>Stage position reports while moving (Stage:TelemetryMovingHz default 50): one approach step per period.</summary>
    public const double ApproachPeriodS = 0.02;

    /// <summary>
    /// Error of each contacted pixel: recorded z minus the meniscus minus the true height. A stepped approach records
    /// the first step at or below surface + meniscus, so the error lies in (-step, 0] plus the stage's Z noise.
    /// </summary>
    public static TopographyComparison Compare(IReadOnlyList<PixelDoneEvent> pixels, Sample sample, double approachSpeedUmPerS = 5)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(sample);
        var contacted = pixels.Where(p => p.Contact && p.ContactZUm is not null).ToArray();
        var errors = contacted.Select(p => (p.ContactZUm!.Value * 1000) - MeniscusNm - sample.HeightNm(p.XUm, p.YUm)).ToArray();
        if (errors.Length == 0)
        {
            return new TopographyComparison(0, double.NaN, double.NaN, double.NaN, double.NaN, approachSpeedUmPerS * ApproachPeriodS * 1000);
        }
        return new TopographyComparison(errors.Length, Math.Sqrt(errors.Average(e => e * e)), errors.Max(Math.Abs), errors.Average(),
            contacted.Max(p => p.ContactZUm!.Value * 1000) - MeniscusNm, approachSpeedUmPerS * ApproachPeriodS * 1000);
    }
}
