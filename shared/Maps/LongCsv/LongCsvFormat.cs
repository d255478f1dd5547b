namespace Seccm.Maps.LongCsv;

/// <summary>
/// The "long CSV" CV format: the header <see cref="Header"/>, then one row per sample. The rows of one curve (one
/// pixel, one scan rate) are contiguous and in time order; a new curve starts when the pixel or the rate changes.
/// Numbers are invariant culture, <c>e</c> notation allowed, anodic current positive, SI units (V, V/s, A).
/// </summary>
public static class LongCsvFormat
{
    public const string Header = "pixel_x,pixel_y,scan_rate_v_s,potential_v,current_a";

    internal static readonly string[] FieldNames = ["pixel_x", "pixel_y", "scan_rate_v_s", "potential_v", "current_a"];
}
