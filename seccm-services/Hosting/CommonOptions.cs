using System.CommandLine;
using System.Globalization;

namespace Seccm.Host.Hosting;

/// <summary>Flags every verb that talks MQTT shares; each maps onto a configuration key.</summary>
internal sealed class CommonOptions
{
    public Option<string?> Instrument { get; } = new("--instrument") { Description = "Instrument id (config key Instrument, default sim1)" };

    public Option<string?> MqttHost { get; } = new("--mqtt-host") { Description = "MQTT broker host (Mqtt:Host); when given, no embedded broker starts" };

    public Option<int?> MqttPort { get; } = new("--mqtt-port") { Description = "MQTT broker port (Mqtt:Port, default 1883)" };

    public Option<string?> Config { get; } = new("--config") { Description = "An extra appsettings JSON file" };

    public void AddTo(Command command)
    {
        command.Options.Add(Instrument);
        command.Options.Add(MqttHost);
        command.Options.Add(MqttPort);
        command.Options.Add(Config);
        MqttPort.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is int p && (p < 1 || p > 65535))
            {
                r.AddError($"--mqtt-port must be between 1 and 65535, not {p}.");
            }
        });
    }

    /// <summary>The flags as configuration overrides (highest priority).</summary>
    public Dictionary<string, string?> ToOverrides(ParseResult parse)
    {
        var overrides = new Dictionary<string, string?>();
        if (parse.GetValue(Instrument) is { } instrument)
        {
            overrides["Instrument"] = instrument;
        }
        if (parse.GetValue(MqttHost) is { } host)
        {
            overrides["Mqtt:Host"] = host;
        }
        if (parse.GetValue(MqttPort) is { } port)
        {
            overrides["Mqtt:Port"] = port.ToString(CultureInfo.InvariantCulture);
        }
        return overrides;
    }
}
