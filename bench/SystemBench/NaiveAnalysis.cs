using System.Globalization;
using Seccm.Electrochemistry.Analysis;
using Seccm.Maps;
using Seccm.Maps.LongCsv;
using CvCurve = Seccm.Electrochemistry.Analysis.CvCurve;

namespace Seccm.Host.Bench;

/// <summary>
/// The baseline <c>seccm bench analyze</c> compares against: what one writes first. Read the whole file into memory
/// (string split, double.Parse), then analyse pixel after pixel on one thread. Same physics (<see cref="PixelAnalysis"/>),
/// so the two must agree on every D; memory grows with the file.
/// </summary>
internal static class NaiveAnalysis
{
    public static List<(int X, int Y, PixelResult Result)> Run(string path, AnalysisSettings settings)
    {
        var pixels = new Dictionary<(int X, int Y), Dictionary<double, (List<double> E, List<double> I)>>();
        long lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (lineNo == 1)
            {
                if (line.Trim() != LongCsvFormat.Header)
                {
                    throw new DataFileException(path, 1, null, $"expected the header '{LongCsvFormat.Header}'");
                }
                continue;
            }
            if (line.Length == 0)
            {
                continue;
            }
            var f = line.Split(',');
            if (f.Length != 5)
            {
                throw new DataFileException(path, lineNo, null, $"{f.Length} fields, expected 5");
            }
            var key = (int.Parse(f[0], CultureInfo.InvariantCulture), int.Parse(f[1], CultureInfo.InvariantCulture));
            double rate = double.Parse(f[2], CultureInfo.InvariantCulture);
            if (!pixels.TryGetValue(key, out var curves))
            {
                pixels[key] = curves = [];
            }
            if (!curves.TryGetValue(rate, out var curve))
            {
                curves[rate] = curve = ([], []);
            }
            curve.E.Add(double.Parse(f[3], CultureInfo.InvariantCulture));
            curve.I.Add(double.Parse(f[4], CultureInfo.InvariantCulture));
        }

        var results = new List<(int, int, PixelResult)>(pixels.Count);
        foreach (var ((x, y), curves) in pixels.OrderBy(p => p.Key.Y).ThenBy(p => p.Key.X))
        {
            var input = curves.OrderBy(c => c.Key).Select(c => new CvCurve(c.Key, c.Value.E.ToArray(), c.Value.I.ToArray())).ToArray();
            results.Add((x, y, PixelAnalysis.Analyze(input, settings)));
        }
        return results;
    }
}
