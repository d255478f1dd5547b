using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Exceptions;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Hosting;
using Seccm.TestSupport;

namespace Seccm.Integration.Tests.Security;

/// <summary>
/// deploy/mosquitto/mosquitto.conf as shipped (only its container paths and ports rewritten to a temp directory), with the
/// users and ACL of deploy/mosquitto/facility.sh and the TLS listener enabled by deploy/mosquitto/gen-certs.sh: a service
/// connects over TLS with Mqtt:CaFile and Mqtt:PasswordFile as the compose file sets them, anonymous is refused.
/// </summary>
public sealed class DeployedBrokerConfigTests
{
    [Fact]
    public async Task The_shipped_config_starts_with_tls_from_gen_certs_and_a_service_connects_with_its_ca_file()
    {
        var mosquitto = ExternalTool.Require("mosquitto");
        ExternalTool.Require("openssl");
        var deploy = Path.Combine(SecuredBroker.RepositoryRoot(), "deploy", "mosquitto");
        // The users, passwords and ACL as an administrator makes them (facility.sh into a temp deploy directory).
        using var facility = Facility.Create();
        var root = facility.Root;
        var config = Path.Combine(root, "mosquitto");
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(Path.Combine(config, "conf.d"));
        Directory.CreateDirectory(data);
        foreach (var file in new[] { "mosquitto.conf", "tls.conf.template", "gen-certs.sh" })
        {
            File.Copy(Path.Combine(deploy, file), Path.Combine(config, file));
        }
        facility.Run("add-display", SecuredBroker.Display);
        facility.Run("add-instrument", "tls1");
        Assert.True(File.Exists(Path.Combine(config, "acl")) && File.Exists(Path.Combine(config, "passwd")),
            "facility.sh did not write acl and passwd where mosquitto.conf expects them");
        using (var certs = ExternalTool.Start("bash", [Path.Combine(config, "gen-certs.sh"), "localhost"], config))
        {
            Assert.True(certs.Process.WaitForExit(120_000) && certs.Process.ExitCode == 0, $"gen-certs.sh failed: {certs.Output}");
        }
        Assert.True(File.Exists(Path.Combine(config, "conf.d", "tls.conf")), "gen-certs.sh did not enable the TLS listener");
        var user = SecuredBroker.User(ServiceNames.Stage, "tls1");

        var plainPort = FreePort.Next();
        int tlsPort;
        do
        {
            tlsPort = FreePort.Next();
        }
        while (tlsPort == plainPort);
        Rewrite(Path.Combine(config, "mosquitto.conf"), config, data, "listener 1883", $"listener {plainPort} 127.0.0.1");
        Rewrite(Path.Combine(config, "conf.d", "tls.conf"), config, data, "listener 8883", $"listener {tlsPort} 127.0.0.1");
        OpenUp(root);

        using var broker = ExternalTool.Start(mosquitto, ["-c", Path.Combine(config, "mosquitto.conf")]);
        await FreePort.WaitListeningAsync(plainPort, TimeSpan.FromSeconds(15), $"mosquitto (plain); it said: {broker.Output}");
        await FreePort.WaitListeningAsync(tlsPort, TimeSpan.FromSeconds(15), $"mosquitto (TLS); it said: {broker.Output}");

        await using var bus = new MqttBus(ServiceNames.Stage, new SeccmOptions { Instrument = "tls1" },
            new MqttOptions
            {
                Host = "127.0.0.1",
                Port = tlsPort,
                UseTls = true,
                CaFile = Path.Combine(config, "certs", "ca.crt"),
                Username = user,
                PasswordFile = facility.PasswordFileOf(user),
            }, NullLogger.Instance, TimeProvider.System);
        await bus.StartAsync(CancellationToken.None);
        await bus.WaitConnectedAsync(TimeSpan.FromSeconds(20), CancellationToken.None);

        using var anonymous = new MqttClientFactory().CreateMqttClient();
        var refused = false;
        try
        {
            var result = await anonymous.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", plainPort)
                .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithTimeout(TimeSpan.FromSeconds(10)).Build());
            refused = result.ResultCode != MqttClientConnectResultCode.Success;
        }
        catch (MqttCommunicationException)
        {
            refused = true;
        }
        Assert.True(refused, "the shipped config let an anonymous client in");
    }

    private static void Rewrite(string path, string config, string data, string listener, string localListener)
    {
        var text = File.ReadAllText(path);
        Assert.Contains(listener, text, StringComparison.Ordinal);
        text = text.Replace("/mosquitto/config", config, StringComparison.Ordinal)
            .Replace("/mosquitto/data/", data + "/", StringComparison.Ordinal)
            .Replace(listener, localListener, StringComparison.Ordinal);
        File.WriteAllText(path, text);
    }

    /// <summary>mosquitto started as root drops to the "mosquitto" user: it must read the config and write the data dir.</summary>
    private static void OpenUp(string root)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        const UnixFileMode all = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        foreach (var dir in Directory.GetDirectories(root, "*", SearchOption.AllDirectories).Append(root))
        {
            File.SetUnixFileMode(dir, all);
        }
        foreach (var file in Directory.GetFiles(root, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
    }
}
