namespace Seccm.Electrochemistry;

/// <summary>CODATA constants used by every formula in this library (SI).</summary>
public static class PhysicalConstants
{
    /// <summary>Faraday constant, C/mol.</summary>
    public const double FaradayCPerMol = 96485.33212;

    /// <summary>Molar gas constant, J/(mol K).</summary>
    public const double GasJPerMolK = 8.314462618;

    /// <summary>25 C in kelvin, the default temperature.</summary>
    public const double RoomTemperatureK = 298.15;

    /// <summary>nF/RT in 1/V.</summary>
    public static double FOverRtPerV(int electrons, double temperatureK) =>
        electrons * FaradayCPerMol / (GasJPerMolK * temperatureK);
}
