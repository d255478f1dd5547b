using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Messaging.Broker;
using Seccm.TestSupport;
using Xunit.Abstractions;

namespace Seccm.Integration.Tests.Interop;

/// <summary>
/// The embedded broker probed with Eclipse Paho beside mosquitto (the reference): it differs exactly where the README's
/// "Watch it from another terminal" says, and nowhere else among the MQTT features the probe tries.
/// </summary>
public sealed class BrokerDifferenceTests(ITestOutputHelper output)
{
    /// <summary>Probe lines whose value is the broker's own (an id, a time): compared below by what they mean.</summary>
    // The embedded broker drops an expired retained message on some runs and delivers it on others (MQTTnet checks expiry
    // on its own schedule; README: not reliably applied), so only mosquitto's side of that probe is asserted.
    private static readonly string[] Individual = ["v5_assigned_client_id", "will_delay_3s_will_after_s", "expired_retained_message_delivered"];

    /// <summary>The differences the README documents, with the embedded broker's value.</summary>
    private static readonly Dictionary<string, string> Documented = new()
    {
        ["connack_SharedSubscriptionAvailable"] = "0",
        ["shared_subscription_suback"] = "Shared subscription not supported",
        ["sys_broker_version"] = "none",
        ["connack_TopicAliasMaximum"] = "65535",
    };

    [Fact]
    public async Task The_embedded_broker_differs_from_mosquitto_only_where_the_readme_says()
    {
        using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        Dictionary<string, string> reference;
        await using (var mosquitto = await MosquittoServer.StartAsync())
        {
            reference = await ProbeAsync(mosquitto.Port, hang.Token);
        }
        var port = FreePort.Next();
        var broker = new EmbeddedBroker(IPAddress.Loopback, port, NullLogger<EmbeddedBroker>.Instance);
        await broker.StartAsync(hang.Token);
        Dictionary<string, string> embedded;
        await using (broker)
        {
            embedded = await ProbeAsync(port, hang.Token);
        }

        Assert.Equal(reference.Keys.Order(StringComparer.Ordinal), embedded.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, expected) in reference.Where(p => !Individual.Contains(p.Key)))
        {
            output.WriteLine($"{name}: mosquitto {expected}, embedded {embedded[name]}");
            Assert.Equal(Documented.GetValueOrDefault(name, expected), embedded[name]);
        }
        Assert.All(Documented.Keys, name => Assert.NotEqual(reference[name], embedded[name]));
        foreach (var probe in new[] { reference, embedded })
        {
            Assert.StartsWith("auto-", probe["v5_assigned_client_id"], StringComparison.Ordinal);
            Assert.Equal("0", probe["v311_empty_id_clean_session_connack"]);
            Assert.Equal("True", probe["disconnect_with_will_message_sends_will"]);
        }
        Assert.Equal("False", reference["expired_retained_message_delivered"]);
        // mosquitto holds a will back for its delay; the embedded broker sends it when the connection drops (documented).
        Assert.True(double.Parse(reference["will_delay_3s_will_after_s"], CultureInfo.InvariantCulture) >= 3.0,
            $"mosquitto sent a will with a 3 s delay after {reference["will_delay_3s_will_after_s"]} s");
        output.WriteLine($"will with a 3 s delay: mosquitto after {reference["will_delay_3s_will_after_s"]} s, " +
            $"embedded after {embedded["will_delay_3s_will_after_s"]} s");
    }

    private async Task<Dictionary<string, string>> ProbeAsync(int port, CancellationToken ct)
    {
        using var probe = ExternalTool.Start(ExternalTool.Require("python3"),
            ["-u", Path.Combine(AppContext.BaseDirectory, "Interop", "paho_probe.py"), "127.0.0.1", port.ToString(CultureInfo.InvariantCulture), "probe"]);
        var text = await probe.WaitForExitAsync(ct);
        output.WriteLine($"$ {probe.Display}{Environment.NewLine}{text}");
        Assert.True(probe.Process.ExitCode == 0, $"{probe.Display} failed:{Environment.NewLine}{text}");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2))
            .ToDictionary(parts => parts[0], parts => parts.Length == 2 ? parts[1] : "");
    }
}
