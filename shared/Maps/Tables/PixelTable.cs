namespace Seccm.Maps.Tables;

/// <summary>
/// A per-pixel table as named columns of equal length (double, int or string), with a unit per column. The same table
/// goes to CSV (<see cref="PixelTableCsv"/>) and to HDF5 (<c>/pixels</c>).
/// </summary>
public sealed class PixelTable
{
    private readonly List<PixelColumn> _columns = [];

    public PixelTable(int rowCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        RowCount = rowCount;
    }

    public int RowCount { get; }

    public IReadOnlyList<PixelColumn> Columns => _columns;

    public PixelTable Add(string name, double[] values, string unit = "") => AddColumn(name, unit, values, values?.Length);

    public PixelTable Add(string name, int[] values, string unit = "") => AddColumn(name, unit, values, values?.Length);

    public PixelTable Add(string name, string[] values) => AddColumn(name, "", values, values?.Length);

    private PixelTable AddColumn(string name, string unit, Array? values, int? length)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(unit);
        if (length != RowCount)
        {
            throw new ArgumentException($"Column '{name}' has {length} rows, the table {RowCount}.", nameof(values));
        }
        if (_columns.Any(c => c.Name == name))
        {
            throw new ArgumentException($"Column '{name}' is already in the table.", nameof(name));
        }
        if (name.AsSpan().IndexOfAny(",\"\n\r/") >= 0)
        {
            throw new ArgumentException($"Column name '{name}' may not contain a comma, quote, slash or line break.", nameof(name));
        }
        _columns.Add(new PixelColumn(name, unit, values));
        return this;
    }
}

/// <summary>One column: <see cref="Values"/> is a double[], int[] or string[].</summary>
public sealed record PixelColumn(string Name, string Unit, Array Values);
