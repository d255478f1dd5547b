namespace Seccm.Maps;

/// <summary>
/// A data file that cannot be read as what it claims to be. The message names the file, the line (1-based; 0 when
/// the problem is the file as a whole) and the field, e.g. <c>data.csv line 17, field current_a: 'abc' is not a number</c>.
/// </summary>
public sealed class DataFileException : Exception
{
    public DataFileException(string file, long line, string? field, string problem, Exception? inner = null)
        : base(Format(file, line, field, problem), inner)
    {
        File = file;
        Line = line;
        Field = field;
        Problem = problem;
    }

    public string File { get; }

    /// <summary>1-based line number; 0 when the problem concerns the whole file.</summary>
    public long Line { get; }

    public string? Field { get; }

    /// <summary>The message without the location.</summary>
    public string Problem { get; }

    private static string Format(string file, long line, string? field, string problem)
    {
        var where = line > 0 ? $"{file} line {line}" : file;
        return field is null ? $"{where}: {problem}" : $"{where}, field {field}: {problem}";
    }
}
