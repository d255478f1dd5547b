namespace Seccm.Electrochemistry.Atmosphere;

/// <summary>
/// Frost point and water content of glovebox gas, through the saturation vapour pressure over ice of
/// Sonntag (1994). Glovebox moisture is always far below 0 C dew point, so ice is the right phase.
/// </summary>
public static class FrostPoint
{
    public const double StandardPressureHPa = 1013.25;
    private const double ZeroCelsiusK = 273.15;

    // The inverse is searched between these; Sonntag's fit is stated for 173-273 K and is smooth a little beyond.
    private const double LowestK = 123.15;
    private const double HighestK = 283.15;

    /// <summary>Saturation vapour pressure over ice, hPa, at <paramref name="temperatureK"/>.</summary>
    public static double SaturationOverIceHPa(double temperatureK)
    {
        if (!(temperatureK > 0) || double.IsInfinity(temperatureK))
        {
            throw new ArgumentOutOfRangeException(nameof(temperatureK), temperatureK, "Temperature must be a positive number of kelvin.");
        }
        var t = temperatureK;
        return Math.Exp(-6024.5282 / t + 24.7219 + 1.0613868e-2 * t - 1.3198825e-5 * t * t - 0.49382577 * Math.Log(t));
    }

    /// <summary>Water volume fraction in ppmv of gas whose frost point is <paramref name="frostPointC"/> at total pressure <paramref name="pressureHPa"/>.</summary>
    public static double PpmvFromFrostPointC(double frostPointC, double pressureHPa = StandardPressureHPa)
    {
        CheckPressure(pressureHPa);
        return 1e6 * SaturationOverIceHPa(frostPointC + ZeroCelsiusK) / pressureHPa;
    }

    /// <summary>Frost point in C of gas holding <paramref name="ppmv"/> of water at total pressure <paramref name="pressureHPa"/>.</summary>
    public static double FrostPointCFromPpmv(double ppmv, double pressureHPa = StandardPressureHPa)
    {
        CheckPressure(pressureHPa);
        if (!(ppmv > 0) || double.IsInfinity(ppmv))
        {
            throw new ArgumentOutOfRangeException(nameof(ppmv), ppmv, "Water content must be a positive number of ppmv.");
        }
        var targetLnE = Math.Log(ppmv * 1e-6 * pressureHPa);
        double lo = LowestK, hi = HighestK;
        if (targetLnE < Math.Log(SaturationOverIceHPa(lo)) || targetLnE > Math.Log(SaturationOverIceHPa(hi)))
        {
            throw new ArgumentOutOfRangeException(nameof(ppmv), ppmv,
                $"{ppmv} ppmv at {pressureHPa} hPa has a frost point outside {LowestK - ZeroCelsiusK} to {HighestK - ZeroCelsiusK} C.");
        }
        // ln e is monotonic in T: bisection is exact to double precision in ~60 steps and cannot diverge.
        while (hi - lo > 1e-9)
        {
            var mid = 0.5 * (lo + hi);
            if (Math.Log(SaturationOverIceHPa(mid)) < targetLnE)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }
        return 0.5 * (lo + hi) - ZeroCelsiusK;
    }

    private static void CheckPressure(double pressureHPa)
    {
        if (!(pressureHPa > 0) || double.IsInfinity(pressureHPa))
        {
            throw new ArgumentOutOfRangeException(nameof(pressureHPa), pressureHPa, "Total pressure must be a positive number of hPa.");
        }
    }
}
