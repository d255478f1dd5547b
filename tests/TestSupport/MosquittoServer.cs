using System.Globalization;
using System.Text;

namespace Seccm.TestSupport;

/// <summary>
/// A real mosquitto (Debian package) on a free loopback port, with its config in a temp directory.
/// Can be killed and started again on the same port (persistence on, so sessions survive a restart).
/// </summary>
public sealed class MosquittoServer : IAsyncDisposable
{
    private readonly string _dir;
    private readonly string _configPath;
    private OwnedProcess? _process;

    private MosquittoServer(string dir, int port, string configPath)
    {
        _dir = dir;
        Port = port;
        _configPath = configPath;
    }

    public int Port { get; }

    public string Host => "127.0.0.1";

    public string Directory => _dir;

    public string Output => _process?.Output ?? "";

    /// <summary>Starts mosquitto; <paramref name="extraConfig"/> lines are appended to the generated config.</summary>
    public static async Task<MosquittoServer> StartAsync(string? extraConfig = null, bool allowAnonymous = true)
    {
        ExternalTool.Require("mosquitto");
        var dir = System.IO.Directory.CreateTempSubdirectory("seccm-mosquitto-").FullName;
        // Started as root, mosquitto drops to its own user: it must be able to write its persistence file here,
        // or sessions and queued messages do not survive a broker restart.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
            UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
        }
        var port = FreePort.Next();
        var config = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"listener {port} 127.0.0.1")
            .AppendLine(CultureInfo.InvariantCulture, $"allow_anonymous {(allowAnonymous ? "true" : "false")}")
            // Small QoS 1 packets otherwise wait on delayed acknowledgements (about 40 ms a round trip).
            .AppendLine("set_tcp_nodelay true")
            .AppendLine("persistence true")
            .AppendLine(CultureInfo.InvariantCulture, $"persistence_location {dir}/")
            .AppendLine("autosave_interval 1")
            .AppendLine("max_queued_messages 0")
            .AppendLine("max_inflight_messages 0")
            .AppendLine("log_dest stdout")
            .AppendLine("log_type error")
            .AppendLine("log_type warning")
            .AppendLine(extraConfig ?? "")
            .ToString();
        var configPath = Path.Combine(dir, "mosquitto.conf");
        await File.WriteAllTextAsync(configPath, config);
        var server = new MosquittoServer(dir, port, configPath);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>(Re)starts the broker process on the same port and data directory.</summary>
    public async Task StartAgainAsync()
    {
        _process?.Dispose();
        _process = ExternalTool.Start(ExternalTool.Require("mosquitto"), ["-c", _configPath]);
        try
        {
            await FreePort.WaitListeningAsync(Port, TimeSpan.FromSeconds(15), "mosquitto");
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"{ex.Message} mosquitto said: {_process.Output}", ex);
        }
    }

    /// <summary>
    /// SIGHUP: mosquitto re-reads its password file and ACL and disconnects clients whose user is gone (what
    /// <c>docker compose kill -s HUP mosquitto</c> does in a deployment).
    /// </summary>
    public void Reload()
    {
        var process = _process?.Process ?? throw new InvalidOperationException("mosquitto is not running.");
        using var hup = System.Diagnostics.Process.Start("kill", ["-HUP", process.Id.ToString(CultureInfo.InvariantCulture)]);
        hup.WaitForExit();
        if (hup.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -HUP {process.Id} failed; mosquitto said: {Output}");
        }
    }

    /// <summary>SIGKILL: the broker vanishes without a goodbye.</summary>
    public void Kill() => _process?.Kill();

    public async ValueTask DisposeAsync()
    {
        _process?.Dispose();
        await Task.Yield();
        try
        {
            System.IO.Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
