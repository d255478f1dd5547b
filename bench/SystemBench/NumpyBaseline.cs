using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Seccm.Electrochemistry.Analysis;

namespace Seccm.Host.Bench;

/// <summary>
/// The outside baseline of <c>seccm bench analyze</c>: <c>bench/baseline/analyze_plain.py</c>, a straightforward numpy/scipy
/// script of the plain Randles-Sevcik method, run on the same file in the same run. Null (with a line in the log) when
/// python3 with numpy and scipy, or the script, is not there: the table then has no numpy rows rather than wrong ones.
/// </summary>
internal static class NumpyBaseline
{
    internal sealed record Result(double WallS, double PeakRssMb, double MedianD);

    public static Result? Run(string path, AnalysisSettings settings, TextWriter log)
    {
        var script = FindScript();
        if (script is null)
        {
            log.WriteLine("numpy baseline: bench/baseline/analyze_plain.py not found above the working directory or the binary; skipped");
            return null;
        }
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        double radiusNm = settings.AreaCm2 is { } a ? Math.Sqrt(a / Math.PI) * 1e7 : settings.RadiusNm;
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(path);
        start.ArgumentList.Add(radiusNm.ToString("R", CultureInfo.InvariantCulture));
        start.ArgumentList.Add(settings.ConcentrationMolCm3.ToString("R", CultureInfo.InvariantCulture));
        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                log.WriteLine($"numpy baseline: {python} {script} exited {process.ExitCode}: {stderr.Result.Trim()}; skipped (apt-get install python3-numpy python3-scipy)");
                return null;
            }
            using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
            var root = json.RootElement;
            double median = root.GetProperty("median_d_cm2_s").ValueKind == JsonValueKind.Number ? root.GetProperty("median_d_cm2_s").GetDouble() : double.NaN;
            return new Result(root.GetProperty("wall_s").GetDouble(), root.GetProperty("peak_rss_mb").GetDouble(), median);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            log.WriteLine($"numpy baseline: {ex.Message}; skipped");
            return null;
        }
    }

    private static string? FindScript()
    {
        foreach (var root in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(root); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "bench", "baseline", "analyze_plain.py");
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }
}
