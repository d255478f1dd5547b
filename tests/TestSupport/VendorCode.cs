namespace Seccm.TestSupport;

/// <summary>
/// The vendors' own reference code (PalmSens' MethodSCRIPT examples, PI's PIPython), run as the oracle of protocol tests.
/// It is never copied into this repository: tests extract it at run time from a local git mirror of the vendor's public
/// repository (<c>$SECCM_VENDOR_MIRROR/owner+name/repo</c>, default <c>/work/.mirror</c>) into a temporary directory.
/// A missing mirror is a failure naming what to fetch, never a skip.
/// </summary>
public sealed class VendorCode : IDisposable
{
    private VendorCode(string directory) => Directory = directory;

    /// <summary>Where the extracted files are.</summary>
    public string Directory { get; }

    /// <summary>Extracts <paramref name="paths"/> (files or folders at HEAD) of the vendor repository <paramref name="repository"/> (owner/name).</summary>
    public static VendorCode Extract(string repository, params string[] paths)
    {
        var gitDir = Mirror(repository);
        var target = System.IO.Directory.CreateTempSubdirectory("seccm-vendor-").FullName;
        var archive = Path.Combine(target, "vendor.tar");
        Run(ExternalTool.Require("git"), ["--git-dir", gitDir, "archive", "--format=tar", "-o", archive, "HEAD", "--", .. paths], target);
        Run(ExternalTool.Require("tar"), ["xf", archive, "-C", target], target);
        File.Delete(archive);
        return new VendorCode(target);
    }

    /// <summary>Extracts the gzipped tarball <paramref name="tarball"/> stored at HEAD of <paramref name="repository"/> and unpacks it.</summary>
    public static VendorCode ExtractTarball(string repository, string tarball)
    {
        var vendor = Extract(repository, tarball);
        Run(ExternalTool.Require("tar"), ["xzf", Path.Combine(vendor.Directory, tarball), "-C", vendor.Directory], vendor.Directory);
        return vendor;
    }

    /// <summary>Runs python3 on <paramref name="script"/> with the vendor code on PYTHONPATH; returns its output, throws with it on failure.</summary>
    public string RunPython(string script, string pythonPath, IEnumerable<string> args, TimeSpan hang)
    {
        var file = Path.Combine(Directory, $"check-{Guid.NewGuid():N}.py");
        File.WriteAllText(file, script);
        using var process = ExternalTool.Start(ExternalTool.Require("python3"), [file, .. args], Directory,
            new Dictionary<string, string> { ["PYTHONPATH"] = Path.Combine(Directory, pythonPath), ["PYTHONDONTWRITEBYTECODE"] = "1" });
        if (!process.WaitForExit(hang))
        {
            throw new TimeoutException($"The vendor check did not end within {hang}: {process.Output}");
        }
        if (process.Process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The vendor check failed (exit {process.Process.ExitCode}): {process.Output}");
        }
        return process.Output;
    }

    private static string Mirror(string repository)
    {
        var root = Environment.GetEnvironmentVariable("SECCM_VENDOR_MIRROR") is { Length: > 0 } set ? set : "/work/.mirror";
        var gitDir = Path.Combine(root, repository.Replace('/', '+'), "repo");
        if (!System.IO.Directory.Exists(gitDir))
        {
            throw new InvalidOperationException(
                $"The vendor reference code of {repository} is not at '{gitDir}': mirror https://github.com/{repository} there (git clone --mirror) or set SECCM_VENDOR_MIRROR.");
        }
        return gitDir;
    }

    private static void Run(string tool, IEnumerable<string> args, string workingDirectory)
    {
        using var process = ExternalTool.Start(tool, args, workingDirectory);
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)) || process.Process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{tool} {string.Join(' ', args)}' failed: {process.Output}");
        }
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
