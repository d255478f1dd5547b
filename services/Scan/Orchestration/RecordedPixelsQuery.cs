using Seccm.Contracts.Scan;
using Seccm.Messaging.Commands;
using Seccm.Scan.Checkpoints;
using Seccm.Scan.Raster;

namespace Seccm.Scan.Orchestration;

/// <summary>
/// <c>cmd/pixels</c>: the recorded pixels of a scan, read from its checkpoint (the archive of a finished scan, or the
/// active one as last saved), with their place in the raster. It lets a reader that lost <c>event/pixel</c> messages (a
/// broker killed before delivering them) find out what the scan recorded, without the scan publishing anything again.
/// </summary>
internal static class RecordedPixelsQuery
{
    public static ScanPixelsResult Answer(CheckpointStore store, ScanPixelsCommand command)
    {
        ScanCheckpoint? checkpoint;
        try
        {
            checkpoint = store.LoadFinished(command.ScanId);
            if (checkpoint is null && store.LoadActive() is { } active && active.ScanId == command.ScanId)
            {
                checkpoint = active;
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new CommandException(Contracts.Messages.ErrorCodes.Internal, $"scan '{command.ScanId}': its checkpoint in {store.Directory} is unreadable: {ex.Message}");
        }
        if (checkpoint is null)
        {
            throw CommandException.Invalid($"scan '{command.ScanId}' has no checkpoint in {store.Directory} (neither active nor finished here)");
        }
        var (_, _, plan) = RasterPlan.Build(checkpoint.Recipe);
        var pixels = new List<RecordedPixel>(checkpoint.Done.Count);
        foreach (var record in checkpoint.Done.OrderBy(p => p.Index))
        {
            if (record.Index < 0 || record.Index >= plan.Count)
            {
                throw new CommandException(Contracts.Messages.ErrorCodes.Internal,
                    $"scan '{command.ScanId}': its checkpoint records pixel {record.Index}, outside the recipe's {plan.Count} pixels");
            }
            var spec = plan[record.Index];
            pixels.Add(new RecordedPixel(spec.Index, spec.Ix, spec.Iy, spec.XUm, spec.YUm, record.Contact, record.ContactZUm));
        }
        return new ScanPixelsResult(checkpoint.ScanId, checkpoint.State, plan.Count, pixels);
    }
}
