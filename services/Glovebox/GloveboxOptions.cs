using System.ComponentModel.DataAnnotations;
using Seccm.Glovebox.Alarms;
using Seccm.Glovebox.Sensors;

namespace Seccm.Glovebox;

/// <summary>
/// Settings of the glovebox service (section <c>Glovebox</c>). Sensors are lists, several per glovebox:
/// <c>Glovebox:Oxygen:0:Driver = rapidox</c>, <c>Glovebox:Oxygen:0:Port = /dev/ttyUSB0</c>, ... An empty list means
/// one simulated sensor.
/// </summary>
public sealed class GloveboxOptions : IValidatableObject
{
    public const string Section = "Glovebox";

    public List<DeviceOptions> Oxygen { get; set; } = [];

    public List<DeviceOptions> Moisture { get; set; } = [];

    public DeviceOptions Pump { get; set; } = new();

    [Range(100, 60_000, ErrorMessage = "Glovebox:PollIntervalMs must be between 100 and 60000.")]
    public int PollIntervalMs { get; set; } = 1000;

    public double O2WarningPpm { get; set; } = 5;
    public double O2AlarmPpm { get; set; } = 10;
    public double O2HysteresisPpm { get; set; } = 1;

    public double DewPointWarningC { get; set; } = -70;
    public double DewPointAlarmC { get; set; } = -60;
    public double DewPointHysteresisC { get; set; } = 2;

    /// <summary>How long a new alarm level must persist before it counts.</summary>
    [Range(0, 3600, ErrorMessage = "Glovebox:AlarmHoldSeconds must be between 0 and 3600.")]
    public double AlarmHoldSeconds { get; set; } = 10;

    /// <summary>After this long without a reading of a quantity, its level is unknown and scanning is not safe.</summary>
    [Range(1, 3600, ErrorMessage = "Glovebox:StaleAfterSeconds must be between 1 and 3600.")]
    public double StaleAfterSeconds { get; set; } = 15;

    [Range(1, 24 * 60, ErrorMessage = "Glovebox:PumpMaxOffMinutes must be between 1 and 1440.")]
    public double PumpMaxOffMinutes { get; set; } = 30;

    /// <summary>Simulated glovebox: seed and baselines.</summary>
    public int SimulatedSeed { get; set; } = 1;
    public double SimulatedO2Ppm { get; set; } = 1.0;
    public double SimulatedDewPointC { get; set; } = -75;

    internal IReadOnlyList<DeviceOptions> OxygenOrDefault => Oxygen.Count > 0 ? Oxygen : [new DeviceOptions()];

    internal IReadOnlyList<DeviceOptions> MoistureOrDefault => Moisture.Count > 0 ? Moisture : [new DeviceOptions()];

    internal AlarmThresholds O2Thresholds => new(O2WarningPpm, O2AlarmPpm, O2HysteresisPpm,
        TimeSpan.FromSeconds(AlarmHoldSeconds), TimeSpan.FromSeconds(StaleAfterSeconds));

    internal AlarmThresholds DewPointThresholds => new(DewPointWarningC, DewPointAlarmC, DewPointHysteresisC,
        TimeSpan.FromSeconds(AlarmHoldSeconds), TimeSpan.FromSeconds(StaleAfterSeconds));

    /// <summary>True when any configured device is simulated, so that <c>cmd/simulate</c> has something to act on.</summary>
    internal bool UsesSimulation =>
        OxygenOrDefault.Concat(MoistureOrDefault).Append(Pump).Any(d => d.Driver == DeviceOptions.Simulated);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var problems = new List<string>();
        for (var i = 0; i < Oxygen.Count; i++)
        {
            problems.AddRange(Oxygen[i].Validate($"{Section}:Oxygen:{i}", DeviceOptions.OxygenDrivers));
        }
        for (var i = 0; i < Moisture.Count; i++)
        {
            problems.AddRange(Moisture[i].Validate($"{Section}:Moisture:{i}", DeviceOptions.MoistureDrivers));
        }
        problems.AddRange(Pump.Validate($"{Section}:Pump", DeviceOptions.PumpDrivers));
        problems.AddRange(O2Thresholds.Validate($"{Section}:O2 thresholds (O2WarningPpm/O2AlarmPpm/O2HysteresisPpm)"));
        problems.AddRange(DewPointThresholds.Validate($"{Section}:dew point thresholds (DewPointWarningC/DewPointAlarmC/DewPointHysteresisC)"));
        if (!(SimulatedO2Ppm > 0))
        {
            problems.Add($"{Section}:SimulatedO2Ppm must be positive, got {SimulatedO2Ppm}.");
        }
        if (SimulatedDewPointC is < -100 or > -10)
        {
            problems.Add($"{Section}:SimulatedDewPointC must be between -100 and -10 C, got {SimulatedDewPointC}.");
        }
        return problems.Select(p => new ValidationResult(p));
    }
}
