using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Writes;
using Seccm.Contracts.Diffusion;
using Seccm.Storage;

namespace Seccm.Diffusion.Results;

/// <summary>The time-series schema of a pixel result: one <c>pixel_result</c> point and one <c>cv_peak</c> point per rate.</summary>
internal static class PixelPoints
{
    /// <summary>
    /// InfluxDB keeps one point per series and timestamp, and pixels of one scan share their series: the timestamp is the
    /// pixel's done time at millisecond resolution plus 100 ns per pixel index (mod 10000) plus 1 ns per rate, distinct
    /// unless two pixels 10000 apart finish in the same millisecond.
    /// </summary>
    public static IEnumerable<PointData> Of(PixelResultMessage r, DateTimeOffset doneUtc, string instrument, string service)
    {
        var ms = Points.ToUnixNanoseconds(doneUtc) / 1_000_000 * 1_000_000;
        var ns = ms + (r.Index % 10_000 * 100L);
        var point = Points.New(Measurements.PixelResult, instrument, service, doneUtc, r.ScanId, r.Technique)
            .Timestamp(ns, WritePrecision.Ns)
            .Field("pixel", r.Index)
            .Field("ix", r.Ix)
            .Field("iy", r.Iy)
            .Field("x_um", r.XUm)
            .Field("y_um", r.YUm)
            .Field("contact", r.Contact)
            .Field("flag", r.Flags)
            .Field("ok", r.Flags == "ok")
            .Field("rates_used", r.RatesUsed)
            .Field("take", r.Take)
            .Field("method", r.Method)
            .Field("info", r.Info);
        foreach (var (name, value) in new (string, double?)[]
                 {
                     ("d_cm2_s", r.DCm2PerS), ("d_m2_s", r.DCm2PerS * 1e-4), ("r2", r.RSquared), ("dep_v", r.DeltaEpV),
                     ("delta_ep_v", r.DeltaEpV), ("k0_cm_s", r.K0CmPerS), ("slope_a_per_sqrt_v_s", r.SlopeAPerSqrtVPerS),
                     ("contact_z_um", r.ContactZUm), ("current_a", r.MeanCurrentA), ("d_rs_cm2_s", r.DRsCm2PerS),
                     ("alpha", r.Alpha), ("c_dl_f", r.DoubleLayerF), ("r_u_ohm", r.UncompensatedResistanceOhm),
                 })
        {
            if (value is { } v && double.IsFinite(v))
            {
                point = point.Field(name, v);
            }
        }
        yield return point;
        foreach (var p in r.Peaks)
        {
            var peak = Points.New(Measurements.CvPeak, instrument, service, doneUtc, r.ScanId, r.Technique)
                .Timestamp(ns + 1 + Math.Clamp(p.RateIndex, 0, 98), WritePrecision.Ns)
                .Field("pixel", r.Index)
                .Field("x_um", r.XUm)
                .Field("y_um", r.YUm)
                .Field("rate_index", p.RateIndex)
                .Field("scan_rate_v_s", p.ScanRateVPerS)
                .Field("sqrt_scan_rate", Math.Sqrt(p.ScanRateVPerS))
                .Field("has_peak", p.HasPeak)
                .Field("used", r.RatesUsedVPerS.Contains(p.ScanRateVPerS));
            foreach (var (name, value) in new (string, double?)[]
                     {
                         ("ip_a", p.IpA), ("ep_v", p.EpV), ("ip_reverse_a", p.IpReverseA), ("ep_reverse_v", p.EpReverseV), ("delta_ep_v", p.DeltaEpV),
                     })
            {
                if (value is { } v && double.IsFinite(v))
                {
                    peak = peak.Field(name, v);
                }
            }
            yield return peak;
        }
    }
}
