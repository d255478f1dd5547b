using Seccm.Devices.Serial;

namespace Seccm.Potentiostat.Drivers.MethodScript;

/// <summary>
/// A family of MethodSCRIPT devices: how its version reply starts (PalmSens' own instrument code maps firmware prefixes
/// to device types the same way), its serial line, its current ranges and window, and whether it has the galvanostatic
/// mode the vendor's chronopotentiometry examples use (<c>set_pgstat_mode 6</c>, "Applies to: EmStat4, Nexus").
/// </summary>
public sealed record MethodScriptFamily(
    string Name,
    string ConfigName,
    IReadOnlyList<string> VersionPrefixes,
    SerialLineSettings DefaultLine,
    PotentiostatLimits Limits)
{
    /// <summary>
    /// EmStat Pico: 230400 baud; high-speed current ranges 100 nA - 5 mA (the vendor parser's codes 128-137, there is no
    /// nA range); -1.7 to +2 V (data sheet); no galvanostatic mode.
    /// </summary>
    public static MethodScriptFamily EmStatPico { get; } = new("EmStat Pico", "emstat-pico", ["espico"], new SerialLineSettings(230400),
        new PotentiostatLimits(
            MinPotentialV: -1.7, MaxPotentialV: 2.0, MinScanRateVPerS: 1e-4, MaxScanRateVPerS: 50, MinStepV: 1e-4, MaxStepV: 0.25,
            MinIntervalS: 1e-4, MaxCycles: 1000,
            CurrentRangesA: [100e-9, 1e-6, 6e-6, 13e-6, 25e-6, 50e-6, 100e-6, 200e-6, 1e-3, 5e-3], Galvanostatic: false));

    /// <summary>EmStat4 LR: 921600 baud; ranges 1 nA - 10 mA (vendor codes 3-24); -3 to +3 V (data sheet); galvanostatic mode 6.</summary>
    public static MethodScriptFamily EmStat4Lr { get; } = new("EmStat4 LR", "emstat4-lr", ["es4_lr", "mes4lr"], new SerialLineSettings(921600),
        new PotentiostatLimits(
            MinPotentialV: -3, MaxPotentialV: 3, MinScanRateVPerS: 1e-4, MaxScanRateVPerS: 50, MinStepV: 1e-4, MaxStepV: 0.25,
            MinIntervalS: 1e-4, MaxCycles: 1000,
            CurrentRangesA: [1e-9, 10e-9, 100e-9, 1e-6, 10e-6, 100e-6, 1e-3, 10e-3]));

    /// <summary>EmStat4 HR: 921600 baud; ranges 100 nA - 100 mA (vendor codes 9-27); -6 to +6 V (data sheet); galvanostatic mode 6.</summary>
    public static MethodScriptFamily EmStat4Hr { get; } = new("EmStat4 HR", "emstat4-hr", ["es4_hr", "mes4hr"], new SerialLineSettings(921600),
        new PotentiostatLimits(
            MinPotentialV: -6, MaxPotentialV: 6, MinScanRateVPerS: 1e-4, MaxScanRateVPerS: 50, MinStepV: 1e-4, MaxStepV: 0.25,
            MinIntervalS: 1e-4, MaxCycles: 1000,
            CurrentRangesA: [100e-9, 1e-6, 10e-6, 100e-6, 1e-3, 10e-3, 100e-3]));

    public static IReadOnlyList<MethodScriptFamily> All { get; } = [EmStatPico, EmStat4Lr, EmStat4Hr];

    /// <summary>The family whose firmware prefix starts <paramref name="version"/>, or null.</summary>
    public static MethodScriptFamily? FromVersion(string version) =>
        All.FirstOrDefault(f => f.VersionPrefixes.Any(p => version.StartsWith(p, StringComparison.Ordinal)));

    /// <summary>The family named <paramref name="configName"/> in configuration (emstat-pico, emstat4-lr, emstat4-hr), or null.</summary>
    public static MethodScriptFamily? FromConfig(string? configName) =>
        All.FirstOrDefault(f => string.Equals(f.ConfigName, configName?.Trim(), StringComparison.OrdinalIgnoreCase));
}
