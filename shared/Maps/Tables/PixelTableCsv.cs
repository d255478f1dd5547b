using System.Globalization;
using System.Text;

namespace Seccm.Maps.Tables;

/// <summary>
/// Writes a <see cref="PixelTable"/> as CSV: a header of the column names, invariant culture, doubles in shortest
/// round-trip form, NaN as an empty field (what pandas, R and spreadsheets read as missing), strings quoted only when
/// they need it (RFC 4180). Written atomically.
/// </summary>
public static class PixelTableCsv
{
    public static void Write(string path, PixelTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            Write(writer, table);
        });
    }

    public static void Write(TextWriter writer, PixelTable table)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(table);
        writer.WriteLine(string.Join(',', table.Columns.Select(c => c.Name)));
        Span<char> number = stackalloc char[32];
        for (var row = 0; row < table.RowCount; row++)
        {
            for (var col = 0; col < table.Columns.Count; col++)
            {
                if (col > 0)
                {
                    writer.Write(',');
                }
                switch (table.Columns[col].Values)
                {
                    case double[] d:
                        if (double.IsFinite(d[row]) && d[row].TryFormat(number, out var n, "R", CultureInfo.InvariantCulture))
                        {
                            writer.Write(number[..n]);
                        }
                        break;
                    case int[] i:
                        writer.Write(i[row].ToString(CultureInfo.InvariantCulture));
                        break;
                    case string[] s:
                        writer.Write(Quote(s[row] ?? ""));
                        break;
                    default:
                        throw new InvalidOperationException($"Column '{table.Columns[col].Name}' holds {table.Columns[col].Values.GetType().Name}, not double[], int[] or string[].");
                }
            }
            writer.WriteLine();
        }
    }

    internal static string Quote(string text) =>
        text.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
}
