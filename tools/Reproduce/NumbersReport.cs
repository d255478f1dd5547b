using System.Globalization;
using System.Text;
using System.Text.Json;
using Seccm.Maps.Tables;

namespace Seccm.Host.Reproduce;

/// <summary>Writes numbers.json (per figure and for all) and report.md.</summary>
internal static class NumbersReport
{
    public static void WriteJson(string path, IReadOnlyList<FigureResult> figures)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("figures");
            foreach (var f in figures)
            {
                json.WriteStartObject();
                json.WriteString("figure", f.Figure);
                json.WriteNumber("seconds", Math.Round(f.Seconds, 2));
                json.WriteStartArray("images");
                foreach (var i in f.Images)
                {
                    json.WriteStringValue(i.Replace('\\', '/'));
                }
                json.WriteEndArray();
                json.WriteStartArray("numbers");
                foreach (var n in f.Numbers)
                {
                    json.WriteStartObject();
                    json.WriteString("quantity", n.Quantity);
                    json.WriteString("unit", n.Unit);
                    WriteNumber(json, "ours", n.Ours);
                    WriteNumber(json, "paper", n.Paper);
                    WriteNumber(json, "ratio", n.Ratio);
                    if (n.Note is not null)
                    {
                        json.WriteString("note", n.Note);
                    }
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        AtomicFile.WriteAllBytes(path, stream.ToArray());
    }

    public static void WriteMarkdown(string path, IReadOnlyList<FigureResult> figures)
    {
        var md = new StringBuilder();
        md.AppendLine("# Reproduction of the published figures on the simulated instrument").AppendLine();
        md.AppendLine("| figure | quantity | ours | paper | ours/paper | unit | note |").AppendLine("|---|---|---|---|---|---|---|");
        foreach (var f in figures)
        {
            foreach (var n in f.Numbers)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {f.Figure} | {n.Quantity} | {Format(n.Ours)} | {Format(n.Paper)} | {Format(n.Ratio)} | {n.Unit} | {n.Note ?? ""} |");
            }
        }
        md.AppendLine();
        foreach (var f in figures)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"## {f.Figure} ({f.Seconds:0.0} s)").AppendLine();
            foreach (var i in f.Images)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"![{Path.GetFileNameWithoutExtension(i)}]({i.Replace('\\', '/')})").AppendLine();
            }
        }
        AtomicFile.WriteAllText(path, md.ToString());
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static string Format(double? value) =>
        value is not { } v || !double.IsFinite(v) ? "-" : Math.Abs(v) is >= 1e-3 and < 1e5 or 0 ? v.ToString("0.####", CultureInfo.InvariantCulture) : v.ToString("0.00e0", CultureInfo.InvariantCulture);
}
