using System.Globalization;
using System.Text;

namespace Seccm.Maps.LongCsv;

/// <summary>
/// Streams the curves of a long-CSV file (see <see cref="LongCsvFormat"/>) one at a time; only one curve is held in
/// memory, so a 25-million-row file is read in constant memory. Every problem is a <see cref="DataFileException"/>
/// naming file, line and field; curves that ended before the bad line have already been returned, the one
/// the bad line belongs to (or follows) is not.
/// </summary>
public static class LongCsvReader
{
    /// <summary>Longest line accepted; a longer one means the file is not a long CSV (or has no line breaks).</summary>
    internal const int MaxLineBytes = 1 << 16;

    public static IEnumerable<CvCurve> ReadCurves(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            // Checked eagerly so that a typo in a path fails at the call, not at the first MoveNext somewhere else.
            throw new DataFileException(path, 0, null, "the file does not exist");
        }
        return Iterate(() => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan), path, ownsStream: true);
    }

    /// <summary>Reads from a stream; <paramref name="displayName"/> is the name errors use (a file name or a topic).</summary>
    public static IEnumerable<CvCurve> ReadCurves(Stream stream, string displayName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(displayName);
        return Iterate(() => stream, displayName, ownsStream: false);
    }

    private static IEnumerable<CvCurve> Iterate(Func<Stream> open, string name, bool ownsStream)
    {
        var stream = open();
        try
        {
            var parser = new Parser(stream, name);
            while (parser.NextCurve() is { } curve)
            {
                yield return curve;
            }
        }
        finally
        {
            if (ownsStream)
            {
                stream.Dispose();
            }
        }
    }

    private sealed class Parser(Stream stream, string name)
    {
        private static readonly byte[] HeaderBytes = Encoding.ASCII.GetBytes(LongCsvFormat.Header);

        private readonly LineSource _lines = new(stream, name);
        private readonly Dictionary<(int X, int Y, double Rate), long> _finished = [];
        private readonly GrowableDoubles _potential = new();
        private readonly GrowableDoubles _current = new();
        private readonly byte[] _key = new byte[MaxLineBytes];
        private int _keyLength = -1;
        private bool _headerSeen;
        private long _rows;
        private int _x;
        private int _y;
        private double _rate;
        private long _curveFirstLine;

        public CvCurve? NextCurve()
        {
            while (true)
            {
                if (_keyLength >= 0)
                {
                    AppendSameCurveRows();
                }
                if (!_lines.TryReadLine(out var line))
                {
                    break;
                }
                var lineNo = _lines.LineNumber;
                if (!_headerSeen)
                {
                    CheckHeader(line, lineNo);
                    continue;
                }
                if (line.IsEmpty || line.Trim((byte)' ').IsEmpty)
                {
                    continue;
                }
                var finished = ParseRow(line, lineNo);
                if (finished is not null)
                {
                    return finished;
                }
            }
            if (!_headerSeen)
            {
                throw new DataFileException(name, 0, null, $"the file is empty; a long-CSV file starts with the header '{LongCsvFormat.Header}'");
            }
            if (_rows == 0)
            {
                throw new DataFileException(name, 0, null, "the file has a header but no data rows");
            }
            return _potential.Count > 0 ? TakeCurve() : null;
        }

        private void CheckHeader(ReadOnlySpan<byte> line, long lineNo)
        {
            if (lineNo == 1 && line.StartsWith("\uFEFF"u8))
            {
                line = line[3..];
            }
            if (line.IsEmpty && lineNo == 1 && _lines.AtEnd)
            {
                return; // an empty file: reported as such at the end
            }
            if (!line.TrimEnd((byte)' ').SequenceEqual(HeaderBytes))
            {
                throw new DataFileException(name, lineNo, null,
                    $"the header is '{Show(line)}', expected '{LongCsvFormat.Header}'");
            }
            _headerSeen = true;
        }

        /// <summary>
        /// Takes the common rows straight from the buffered bytes: the previous row's first three fields byte for byte,
        /// then two plain numbers. It stops at the first line that is anything else (a new curve, spaces, an odd number,
        /// an error, an incomplete last line) and leaves it to <see cref="ParseRow"/>, which then reads and names it
        /// exactly as if this shortcut did not exist; the values are the same bits.
        /// </summary>
        private void AppendSameCurveRows()
        {
            var pending = _lines.Pending;
            var key = _key.AsSpan(0, _keyLength);
            var k = key.Length;
            var taken = 0;
            var lines = 0;
            while (true)
            {
                // key ',' potential ',' current ('\n' | "\r\n"), read in one pass without looking for the line's end first.
                var row = pending[taken..];
                if (row.Length <= k + 1 || row[k] != (byte)',' || !row[..k].SequenceEqual(key))
                {
                    break;
                }
                var numbers = row[(k + 1)..];
                if (!FastDouble.TryParsePrefix(numbers, out var potential, out var used) || used >= numbers.Length || numbers[used] != (byte)',')
                {
                    break;
                }
                var currentStart = used + 1;
                if (!FastDouble.TryParsePrefix(numbers[currentStart..], out var current, out used))
                {
                    break;
                }
                var end = currentStart + used;
                int breakLength;
                if (end < numbers.Length && numbers[end] == (byte)'\n')
                {
                    breakLength = 1;
                }
                else if (end + 1 < numbers.Length && numbers[end] == (byte)'\r' && numbers[end + 1] == (byte)'\n')
                {
                    breakLength = 2;
                }
                else
                {
                    break; // something else follows the number, or the line's end is not buffered yet
                }
                if (k + 1 + end > MaxLineBytes)
                {
                    break;
                }
                _rows++;
                _potential.Add(potential);
                _current.Add(current);
                taken += k + 1 + end + breakLength;
                lines++;
            }
            _lines.Skip(taken, lines);
        }

        /// <summary>Parses one data row; returns the previous curve when this row starts a new one.</summary>
        private CvCurve? ParseRow(ReadOnlySpan<byte> line, long lineNo)
        {
            _rows++;
            var c0 = line.IndexOf((byte)',');
            var c1 = c0 < 0 ? -1 : NextComma(line, c0);
            var c2 = c1 < 0 ? -1 : NextComma(line, c1);
            var c3 = c2 < 0 ? -1 : NextComma(line, c2);
            if (c3 < 0 || line[(c3 + 1)..].Contains((byte)','))
            {
                var fields = line.Count((byte)',') + 1;
                throw new DataFileException(name, lineNo, null,
                    $"{fields} field{(fields == 1 ? "" : "s")}, expected 5 ({LongCsvFormat.Header})");
            }

            // Every field is checked, left to right, before any state changes, so the curve before a bad line is
            // still delivered whole and the first bad field is the one reported.
            // The first three fields repeat on every row of a curve: comparing their bytes is much cheaper than parsing.
            var key = line[..c2];
            var keyChanged = _keyLength < 0 || !key.SequenceEqual(_key.AsSpan(0, _keyLength));
            int x = _x, y = _y;
            var rate = _rate;
            if (keyChanged)
            {
                x = ParsePixel(line[..c0], lineNo, 0);
                y = ParsePixel(line[(c0 + 1)..c1], lineNo, 1);
                rate = ParseDouble(line[(c1 + 1)..c2], lineNo, 2);
                if (!(rate > 0))
                {
                    throw new DataFileException(name, lineNo, LongCsvFormat.FieldNames[2],
                        $"'{Show(line[(c1 + 1)..c2])}' is not a positive scan rate (V/s)");
                }
            }
            var potential = ParseDouble(line[(c2 + 1)..c3], lineNo, 3);
            var current = ParseDouble(line[(c3 + 1)..], lineNo, 4);

            CvCurve? finished = null;
            if (keyChanged)
            {
                var sameCurve = _keyLength >= 0 && x == _x && y == _y && rate == _rate;
                if (!sameCurve)
                {
                    if (_finished.TryGetValue((x, y, rate), out var earlier))
                    {
                        throw new DataFileException(name, lineNo, null,
                            $"pixel ({x}, {y}) at {rate.ToString(CultureInfo.InvariantCulture)} V/s already had a curve starting at line {earlier}; the rows of one curve must be contiguous");
                    }
                    if (_potential.Count > 0)
                    {
                        finished = TakeCurve();
                    }
                    _x = x;
                    _y = y;
                    _rate = rate;
                    _curveFirstLine = lineNo;
                }
                key.CopyTo(_key);
                _keyLength = key.Length;
            }

            _potential.Add(potential);
            _current.Add(current);
            return finished;
        }

        private CvCurve TakeCurve()
        {
            _finished[(_x, _y, _rate)] = _curveFirstLine;
            var curve = new CvCurve(_x, _y, _rate, _potential.ToArray(), _current.ToArray()) { FirstLine = _curveFirstLine };
            _potential.Clear();
            _current.Clear();
            return curve;
        }

        private static int NextComma(ReadOnlySpan<byte> line, int previous)
        {
            var i = line[(previous + 1)..].IndexOf((byte)',');
            return i < 0 ? -1 : previous + 1 + i;
        }

        private int ParsePixel(ReadOnlySpan<byte> field, long lineNo, int index)
        {
            if (!int.TryParse(field, NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite | NumberStyles.AllowLeadingSign,
                    CultureInfo.InvariantCulture, out var value))
            {
                throw new DataFileException(name, lineNo, LongCsvFormat.FieldNames[index], $"'{Show(field)}' is not an integer pixel index");
            }
            if (value < 0)
            {
                throw new DataFileException(name, lineNo, LongCsvFormat.FieldNames[index], $"'{Show(field)}' is negative; pixel indices start at 0");
            }
            return value;
        }

        private double ParseDouble(ReadOnlySpan<byte> field, long lineNo, int index)
        {
            if (!FastDouble.TryParse(field, out var value))
            {
                throw new DataFileException(name, lineNo, LongCsvFormat.FieldNames[index], $"'{Show(field)}' is not a number");
            }
            if (!double.IsFinite(value))
            {
                throw new DataFileException(name, lineNo, LongCsvFormat.FieldNames[index], $"'{Show(field)}' is not a finite number");
            }
            return value;
        }
    }

    /// <summary>Shows a field in a message: decoded leniently, control characters escaped, long text cut.</summary>
    internal static string Show(ReadOnlySpan<byte> bytes)
    {
        const int maxChars = 40;
        var text = Encoding.UTF8.GetString(bytes.Length > 4 * maxChars ? bytes[..(4 * maxChars)] : bytes);
        var sb = new StringBuilder(Math.Min(text.Length, maxChars) + 4);
        foreach (var ch in text)
        {
            if (sb.Length >= maxChars)
            {
                sb.Append('…');
                break;
            }
            if (char.IsControl(ch))
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)ch:X2}");
            }
            else
            {
                sb.Append(ch);
            }
        }
        return sb.ToString();
    }

    /// <summary>Splits a byte stream into lines (LF or CRLF) without allocating per line.</summary>
    private sealed class LineSource(Stream stream, string name)
    {
        private readonly byte[] _buffer = new byte[1 << 20];
        private int _start;
        private int _end;
        private bool _eof;

        public long LineNumber { get; private set; }

        public bool AtEnd => _eof && _start >= _end;

        /// <summary>The buffered bytes not read yet (whole lines and possibly the start of one).</summary>
        public ReadOnlySpan<byte> Pending => _buffer.AsSpan(_start, _end - _start);

        /// <summary>Marks <paramref name="lines"/> whole lines of <paramref name="bytes"/> bytes at the start of <see cref="Pending"/> as read.</summary>
        public void Skip(int bytes, int lines)
        {
            _start += bytes;
            LineNumber += lines;
        }

        public bool TryReadLine(out ReadOnlySpan<byte> line)
        {
            while (true)
            {
                var pending = _buffer.AsSpan(_start, _end - _start);
                var nl = pending.IndexOf((byte)'\n');
                if (nl >= 0)
                {
                    line = TrimCr(pending[..nl]);
                    _start += nl + 1;
                    LineNumber++;
                    CheckLength(line);
                    return true;
                }
                if (_eof)
                {
                    if (pending.IsEmpty)
                    {
                        line = default;
                        return false;
                    }
                    line = TrimCr(pending);
                    _start = _end;
                    LineNumber++;
                    CheckLength(line);
                    return true;
                }
                if (pending.Length > MaxLineBytes)
                {
                    throw new DataFileException(name, LineNumber + 1, null,
                        $"the line is longer than {MaxLineBytes} bytes; this is not a long-CSV file (or it has no line breaks)");
                }
                Fill();
            }
        }

        private void CheckLength(ReadOnlySpan<byte> line)
        {
            if (line.Length > MaxLineBytes)
            {
                throw new DataFileException(name, LineNumber, null,
                    $"the line is longer than {MaxLineBytes} bytes; this is not a long-CSV file (or it has no line breaks)");
            }
        }

        private void Fill()
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            var read = stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0)
            {
                _eof = true;
            }
            _end += read;
        }

        private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) =>
            line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;
    }

    private sealed class GrowableDoubles
    {
        private double[] _items = new double[4096];

        public int Count { get; private set; }

        public void Add(double value)
        {
            var items = _items;
            var count = Count;
            if ((uint)count < (uint)items.Length)
            {
                items[count] = value;
                Count = count + 1;
            }
            else
            {
                Grow(value);
            }
        }

        private void Grow(double value)
        {
            Array.Resize(ref _items, _items.Length * 2);
            _items[Count++] = value;
        }

        public double[] ToArray() => _items.AsSpan(0, Count).ToArray();

        public void Clear() => Count = 0;
    }
}
