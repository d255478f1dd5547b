using System.Text;
using Seccm.TestSupport;

namespace Seccm.Integration.Tests.Security;

/// <summary>
/// A real mosquitto with the ACL and password file that deploy/mosquitto/facility.sh generates (random passwords,
/// hashed by mosquitto_passwd, everything in a temp deploy directory), anonymous clients refused: the production
/// security setup of a facility.
/// </summary>
internal sealed class SecuredBroker : IAsyncDisposable
{
    /// <summary>The operator granted the one instrument of <see cref="StartAsync(string)"/>.</summary>
    public const string Operator = "operator";

    /// <summary>The display user every broker here has (the compose file's health check logs in as it too).</summary>
    public const string Display = "display";

    private SecuredBroker(MosquittoServer server, Facility facility)
    {
        Server = server;
        Facility = facility;
    }

    public MosquittoServer Server { get; }

    public Facility Facility { get; }

    /// <summary>One instrument as an administrator sets it up: a display, the instrument, an operator for it.</summary>
    public static Task<SecuredBroker> StartAsync(string instrument) =>
        StartAsync(["add-display", Display], ["add-instrument", instrument], ["add-operator", Operator, instrument]);

    /// <summary>Runs the facility.sh <paramref name="commands"/> in order, then starts mosquitto on the files they wrote.</summary>
    public static async Task<SecuredBroker> StartAsync(params string[][] commands)
    {
        var facility = Facility.Create();
        try
        {
            foreach (var command in commands)
            {
                facility.Run(command);
            }
            var server = await MosquittoServer.StartAsync($"password_file {facility.PasswordFile}\nacl_file {facility.AclFile}", allowAnonymous: false);
            return new SecuredBroker(server, facility);
        }
        catch
        {
            facility.Dispose();
            throw;
        }
    }

    /// <summary>The broker user of <paramref name="service"/> at <paramref name="instrument"/>, as facility.sh names it.</summary>
    public static string User(string service, string instrument) => $"{service}@{instrument}";

    public string Password(string user) => Facility.Password(user);

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
        Facility.Dispose();
    }
}

/// <summary>A temp deploy directory (SECCM_DEPLOY_DIR) that deploy/mosquitto/facility.sh writes into.</summary>
internal sealed class Facility : IDisposable
{
    private Facility(string root) => Root = root;

    public string Root { get; }

    public string AclFile => Path.Combine(Root, "mosquitto", "acl");

    public string PasswordFile => Path.Combine(Root, "mosquitto", "passwd");

    public static string Script => Path.Combine(SecuredBroker.RepositoryRoot(), "deploy", "mosquitto", "facility.sh");

    public static Facility Create()
    {
        ExternalTool.Require("mosquitto_passwd");
        var root = Directory.CreateTempSubdirectory("seccm-facility-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "mosquitto"));
        if (!OperatingSystem.IsWindows())
        {
            // mosquitto started as root drops to the "mosquitto" user before reading the files: let it through the
            // directories (the files are the script's: acl and passwd 644, the plain passwords of people 600).
            const UnixFileMode open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
            File.SetUnixFileMode(root, open);
            File.SetUnixFileMode(Path.Combine(root, "mosquitto"), open);
        }
        return new Facility(root);
    }

    /// <summary>Runs facility.sh; a failure throws with what it said.</summary>
    public string Run(params string[] args)
    {
        var (code, output) = TryRun(args);
        if (code != 0)
        {
            throw new InvalidOperationException($"facility.sh {string.Join(' ', args)} exited {code}: {output}");
        }
        return output;
    }

    public (int ExitCode, string Output) TryRun(params string[] args)
    {
        using var run = ExternalTool.Start("bash", [Script, .. args], environment: new Dictionary<string, string> { ["SECCM_DEPLOY_DIR"] = Root });
        if (!run.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            throw new InvalidOperationException($"facility.sh {string.Join(' ', args)} hangs: {run.Output}");
        }
        return (run.Process.ExitCode, run.Output);
    }

    /// <summary>Where facility.sh left the password of <paramref name="user"/> (service@instrument, operator or display).</summary>
    public string PasswordFileOf(string user)
    {
        var at = user.IndexOf('@', StringComparison.Ordinal);
        return at < 0
            ? Path.Combine(Root, "secrets", "users", user)
            : Path.Combine(Root, "secrets", user[(at + 1)..], $"mqtt_{user[..at]}");
    }

    public string Password(string user)
    {
        var file = PasswordFileOf(user);
        if (!File.Exists(file))
        {
            throw new InvalidOperationException($"facility.sh wrote no password for {user} ({file}).");
        }
        return File.ReadLines(file).First().Trim();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
