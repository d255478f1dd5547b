using System.Globalization;
using System.Text;

namespace Seccm.Storage.Backends;

/// <summary>
/// The embedded default: appends line protocol to files under Directory/yyyy-MM-dd/ (UTC day of writing),
/// starting a new file each day and past MaxFileBytes. `seccm replay --dir` loads them into a database later.
/// </summary>
internal sealed class LineProtocolFileWriter : ILineProtocolWriter
{
    private readonly string _root;
    private readonly long _maxFileBytes;
    private readonly TimeProvider _time;
    private readonly string _writerId;
    private FileStream? _file;
    private DateOnly _fileDay;
    private int _fileNumber;

    public LineProtocolFileWriter(string directory, long maxFileBytes, TimeProvider time)
    {
        _root = Path.GetFullPath(directory);
        _maxFileBytes = maxFileBytes;
        _time = time;
        // Several processes may share the folder: the start time and process id keep their files apart.
        _writerId = string.Create(CultureInfo.InvariantCulture,
            $"{time.GetUtcNow():yyyyMMdd'T'HHmmss}-{Environment.ProcessId}");
        Target = $"line-protocol files in {_root}";
    }

    public string Target { get; }

    /// <summary>The file being appended to, if any (tests and logs).</summary>
    public string? CurrentPath => _file?.Name;

    public async Task<WriteOutcome> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        try
        {
            var file = CurrentFile();
            var body = LineProtocolBody.Encode(lines);
            await file.WriteAsync(body, cancellationToken).ConfigureAwait(false);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            return WriteOutcome.Ok;
        }
        catch (IOException ex)
        {
            CloseFile();
            return WriteOutcome.Retry($"cannot write {Target}: {ex.Message}");
        }
        catch (UnauthorizedAccessException ex)
        {
            CloseFile();
            return WriteOutcome.Retry($"no permission to write {Target}: {ex.Message}");
        }
    }

    private FileStream CurrentFile()
    {
        var today = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);
        if (_file is not null && (today != _fileDay || _file.Length >= _maxFileBytes))
        {
            CloseFile();
        }
        if (_file is null)
        {
            var dayDir = Path.Combine(_root, today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            Directory.CreateDirectory(dayDir);
            if (today != _fileDay)
            {
                _fileNumber = 0;
            }
            string path;
            do
            {
                _fileNumber++;
                path = Path.Combine(dayDir, string.Create(CultureInfo.InvariantCulture, $"{_writerId}-{_fileNumber:D4}.lp"));
            }
            while (File.Exists(path));
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 64 * 1024);
            _fileDay = today;
        }
        return _file;
    }

    private void CloseFile()
    {
        try
        {
            _file?.Dispose();
        }
        catch (IOException)
        {
            // Closing a file on a full disk can fail; the next write opens a fresh one.
        }
        _file = null;
    }

    public ValueTask DisposeAsync()
    {
        CloseFile();
        return ValueTask.CompletedTask;
    }
}
