using System.Security.Cryptography;
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
/// TLS listener enabled by deploy/mosquitto/gen-certs.sh: a service connects over TLS with Mqtt:CaFile, anonymous is refused.
/// </summary>
public sealed class DeployedBrokerConfigTests
{
    [Fact]
    public async Task The_shipped_config_starts_with_tls_from_gen_certs_and_a_service_connects_with_its_ca_file()
    {
        var mosquitto = ExternalTool.Require("mosquitto");
        var passwd = ExternalTool.Require("mosquitto_passwd");
        ExternalTool.Require("openssl");
        var deploy = Path.Combine(SecuredBroker.RepositoryRoot(), "deploy", "mosquitto");
        var root = Directory.CreateTempSubdirectory("seccm-deployed-broker-").FullName;
        try
        {
            var config = Path.Combine(root, "config");
            var data = Path.Combine(root, "data");
            Directory.CreateDirectory(Path.Combine(config, "conf.d"));
            Directory.CreateDirectory(data);
            foreach (var file in new[] { "mosquitto.conf", "acl", "tls.conf.template", "gen-certs.sh" })
            {
                File.Copy(Path.Combine(deploy, file), Path.Combine(config, file));
            }
            using (var certs = ExternalTool.Start("bash", [Path.Combine(config, "gen-certs.sh"), "localhost"], config))
            {
                Assert.True(certs.Process.WaitForExit(120_000) && certs.Process.ExitCode == 0, $"gen-certs.sh failed: {certs.Output}");
            }
            Assert.True(File.Exists(Path.Combine(config, "conf.d", "tls.conf")), "gen-certs.sh did not enable the TLS listener");

            var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
            var passwordFile = Path.Combine(config, "passwd");
            await File.WriteAllTextAsync(passwordFile, $"stage:{password}\n");
            using (var hash = ExternalTool.Start(passwd, ["-U", passwordFile]))
            {
                Assert.True(hash.Process.WaitForExit(30_000) && hash.Process.ExitCode == 0, $"mosquitto_passwd failed: {hash.Output}");
            }

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
                    Username = "stage",
                    Password = password,
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
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
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
