namespace Seccm.TestSupport;

/// <summary>
/// A virtual serial cable made by socat: two pseudo-terminals linked to each other. The driver under test
/// opens <see cref="DevicePort"/>'s peer <see cref="HostPort"/>; the emulator opens <see cref="DevicePort"/>.
/// </summary>
public sealed class SocatPair : IDisposable
{
    private readonly OwnedProcess _socat;
    private readonly string _dir;

    private SocatPair(OwnedProcess socat, string dir, string hostPort, string devicePort)
    {
        _socat = socat;
        _dir = dir;
        HostPort = hostPort;
        DevicePort = devicePort;
    }

    /// <summary>The end the driver (our production code) opens.</summary>
    public string HostPort { get; }

    /// <summary>The end the device emulator opens.</summary>
    public string DevicePort { get; }

    public static async Task<SocatPair> StartAsync()
    {
        var socat = ExternalTool.Require("socat");
        var dir = Directory.CreateTempSubdirectory("seccm-socat-").FullName;
        var a = Path.Combine(dir, "ttyHost");
        var b = Path.Combine(dir, "ttyDevice");
        var process = ExternalTool.Start(socat, ["-d", "-d", $"pty,raw,echo=0,link={a}", $"pty,raw,echo=0,link={b}"]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!(File.Exists(a) && File.Exists(b)))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var output = process.Output;
                process.Dispose();
                throw new InvalidOperationException($"socat did not create the virtual serial pair: {output}");
            }
            await Task.Delay(20);
        }
        return new SocatPair(process, dir, a, b);
    }

    public void Dispose()
    {
        _socat.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
