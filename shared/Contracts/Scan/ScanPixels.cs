using Seccm.Contracts.Messages;
using Seccm.Contracts.Topics;

namespace Seccm.Contracts.Scan;

/// <summary>
/// <c>scan/cmd/pixels</c>: which pixels of a scan are recorded, from its checkpoint (the active one or the archive of a
/// finished scan). A reader that missed <c>event/pixel</c> messages (lost in a broker that was killed) learns them here.
/// </summary>
public sealed record ScanPixelsCommand(string ScanId) : Payload, IValidatable
{
    public IEnumerable<string> Validate()
    {
        if (!Topic.IsValidSegment(ScanId))
        {
            yield return $"scanId '{ScanId}' must be 1-64 letters, digits, '-', '_' or '.'";
        }
    }
}

/// <summary>One recorded pixel: the fields of its <see cref="PixelDoneEvent"/> except the time it was published.</summary>
public sealed record RecordedPixel(int Index, int Ix, int Iy, double XUm, double YUm, bool Contact, double? ContactZUm);

/// <summary>Reply of <c>scan/cmd/pixels</c>: the scan's state in its checkpoint and its recorded pixels by index.</summary>
public sealed record ScanPixelsResult(string ScanId, ScanState State, int PixelsTotal, IReadOnlyList<RecordedPixel> Pixels) : Payload;
