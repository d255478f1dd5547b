namespace Seccm.Maps.Tables;

/// <summary>
/// Writes a file so that readers see either the old file or the complete new one, never a half-written result:
/// the content goes to a temporary file in the same directory (same file system, so the move is a rename) and is
/// moved over the target only after it has been flushed to disk.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var file = Begin(path);
        write(file.Stream);
        file.Commit();
    }

    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        await using var file = Begin(path);
        await write(file.Stream, cancellationToken).ConfigureAwait(false);
        await file.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        using var file = Begin(path);
        file.Stream.Write(bytes);
        file.Commit();
    }

    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));

    /// <summary>
    /// Opens a temporary file beside <paramref name="path"/>. Write to <see cref="AtomicFileStream.Stream"/>, then call
    /// <see cref="AtomicFileStream.Commit"/>; disposing without committing deletes the temporary file and leaves
    /// <paramref name="path"/> as it was.
    /// </summary>
    public static AtomicFileStream Begin(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no directory.", nameof(path));
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"Cannot write '{path}': the directory '{dir}' does not exist.");
        }
        // A dot-prefixed name so that globbing for results (*.png, *.csv) never picks up an unfinished file.
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        return new AtomicFileStream(full, temp);
    }
}

/// <summary>A temporary file that becomes its target on <see cref="Commit"/>; see <see cref="AtomicFile.Begin"/>.</summary>
public sealed class AtomicFileStream : IDisposable, IAsyncDisposable
{
    private readonly FileStream _stream;
    private bool _committed;

    internal AtomicFileStream(string targetPath, string tempPath)
    {
        TargetPath = targetPath;
        TempPath = tempPath;
        _stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
    }

    public string TargetPath { get; }

    internal string TempPath { get; }

    public Stream Stream => _stream;

    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(TempPath, TargetPath, overwrite: true);
        _committed = true;
    }

    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        _stream.Flush(flushToDisk: true);
        await _stream.DisposeAsync().ConfigureAwait(false);
        File.Move(TempPath, TargetPath, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (!_committed)
        {
            _stream.Dispose();
            TryDelete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_committed)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
            TryDelete();
        }
    }

    private void TryDelete()
    {
        try
        {
            File.Delete(TempPath);
        }
        catch (IOException)
        {
            // Leaving a dot-prefixed temp file behind is harmless; hiding the original error is not.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
