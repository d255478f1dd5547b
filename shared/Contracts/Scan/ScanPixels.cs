using Seccm.Contracts.Messages;

namespace Seccm.Contracts.Scan;

/// <summary>
/// <c>scan/cmd/pixels</c>: which pixels of a scan are recorded, from its checkpoint (the active one or the archive of a
/// finished scan). A reader that missed <c>event/pixel</c> messages (lost in a broker that was killed) learns them here.
/// </summary>
public sealed record ScanPixelsCommand(string ScanId) : Payload, IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(Problems.ScanId(ScanId));
}

/// <summary>One recorded pixel: the fields of its <see cref="PixelDoneEvent"/> except the time it was published.</summary>
public sealed record RecordedPixel(int Index, int Ix, int Iy, double XUm, double YUm, bool Contact, double? ContactZUm) : IValidatable
{
    public IEnumerable<string> Validate() => Problems.Of(
        Problems.NonNegative(Index, "index"),
        Problems.GridIndex(Ix, "ix"),
        Problems.GridIndex(Iy, "iy"),
        Problems.Finite(XUm, "xUm"),
        Problems.Finite(YUm, "yUm"),
        Problems.Finite(ContactZUm, "contactZUm"));
}

/// <summary>Reply of <c>scan/cmd/pixels</c>: the scan's state in its checkpoint and its recorded pixels by index.</summary>
public sealed record ScanPixelsResult(string ScanId, ScanState State, int PixelsTotal, IReadOnlyList<RecordedPixel> Pixels) : Payload, IValidatable
{
    public IEnumerable<string> Validate() =>
        Problems.Of(Problems.ScanId(ScanId), Problems.Defined(State, "state"), Problems.NonNegative(PixelsTotal, "pixelsTotal"))
            .Concat(Problems.Each(Pixels, "pixels", p => p.Validate()));
}
