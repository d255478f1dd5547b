using System.Security.Cryptography;
using System.Text;
using Seccm.TestSupport;

namespace Seccm.Integration.Tests.Security;

/// <summary>
/// A real mosquitto with the repository's deploy/mosquitto/acl and a password file made by mosquitto_passwd
/// (random passwords, in the broker's temp directory), anonymous clients refused: the production security setup.
/// </summary>
internal sealed class SecuredBroker : IAsyncDisposable
{
    public static readonly string[] Users = ["stage", "potentiostat", "scan", "diffusion", "glovebox", "operator", "display"];

    private readonly string _secretsDir;

    private SecuredBroker(MosquittoServer server, IReadOnlyDictionary<string, string> passwords, string secretsDir)
    {
        _secretsDir = secretsDir;
        Server = server;
        Passwords = passwords;
    }

    public MosquittoServer Server { get; }

    public IReadOnlyDictionary<string, string> Passwords { get; }

    public static async Task<SecuredBroker> StartAsync()
    {
        var passwd = ExternalTool.Require("mosquitto_passwd");
        var acl = Path.Combine(RepositoryRoot(), "deploy", "mosquitto", "acl");
        if (!File.Exists(acl))
        {
            throw new InvalidOperationException($"The ACL {acl} is missing.");
        }
        var dir = Directory.CreateTempSubdirectory("seccm-mqtt-secrets-").FullName;
        var passwordFile = Path.Combine(dir, "passwd");
        var passwords = Users.ToDictionary(u => u, _ => Convert.ToHexString(RandomNumberGenerator.GetBytes(12)));
        // Same route as deploy/mosquitto/make-passwords.sh: plain lines hashed in place, secrets never on a command line.
        await File.WriteAllLinesAsync(passwordFile, passwords.Select(p => $"{p.Key}:{p.Value}"));
        using (var hash = ExternalTool.Start(passwd, ["-U", passwordFile]))
        {
            if (!hash.Process.WaitForExit(30_000) || hash.Process.ExitCode != 0)
            {
                throw new InvalidOperationException($"mosquitto_passwd -U failed: {hash.Output}");
            }
        }
        var hashed = await File.ReadAllTextAsync(passwordFile);
        if (passwords.Values.Any(p => hashed.Contains(p, StringComparison.Ordinal)))
        {
            throw new InvalidOperationException("mosquitto_passwd left a plain password in the file.");
        }
        if (!OperatingSystem.IsWindows())
        {
            // mosquitto started as root drops to the "mosquitto" user before reading the file: let it in
            // (the hashes of throw-away test passwords; deployments keep theirs 0640 for the broker's group).
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        var server = await MosquittoServer.StartAsync($"password_file {passwordFile}\nacl_file {acl}", allowAnonymous: false);
        return new SecuredBroker(server, passwords, dir);
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "seccm.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No seccm.slnx above {AppContext.BaseDirectory}.");
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(_secretsDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
