using System.Text.Json;

namespace Seccm.Scan.Checkpoints;

/// <summary>
/// Keeps the checkpoint of the active scan in one JSON file, replaced atomically (write, fsync, rename), so a
/// process killed at any instant leaves either the previous or the new checkpoint, never half of one.
/// </summary>
internal sealed class CheckpointStore(string directory)
{
    private const string ActiveFile = "active-scan.json";

    public string Directory { get; } = directory;

    public ScanCheckpoint? LoadActive() => LoadFile(Path.Combine(Directory, ActiveFile));

    /// <summary>The archived checkpoint of a finished scan, or null.</summary>
    public ScanCheckpoint? LoadFinished(string scanId) => LoadFile(Path.Combine(Directory, "finished", $"{scanId}.json"));

    private static ScanCheckpoint? LoadFile(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), CheckpointJson.Default.ScanCheckpoint);
        }
        catch (JsonException ex)
        {
            // Keep the evidence, start clean: a corrupt checkpoint must not stop the service.
            File.Move(path, path + ".corrupt", overwrite: true);
            throw new InvalidDataException($"{path}: the scan checkpoint is unreadable ({ex.Message}); moved aside to {path}.corrupt.", ex);
        }
    }

    public void Save(ScanCheckpoint checkpoint)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = Path.Combine(Directory, ActiveFile);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, checkpoint, CheckpointJson.Default.ScanCheckpoint);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Moves the active checkpoint to the archive (scan finished).</summary>
    public void Archive(ScanCheckpoint checkpoint)
    {
        Save(checkpoint);
        var archive = Path.Combine(Directory, "finished");
        System.IO.Directory.CreateDirectory(archive);
        File.Move(Path.Combine(Directory, ActiveFile), Path.Combine(archive, $"{checkpoint.ScanId}.json"), overwrite: true);
    }
}
