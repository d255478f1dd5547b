using Seccm.Contracts.Diffusion;
using Seccm.Messaging.Bus;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;

namespace Seccm.Diffusion;

/// <summary>
/// The checks the diffusion makes of the scan's events and of other workers' results before it uses them; each throws
/// <see cref="PayloadException"/> naming the topic and field.
/// </summary>
internal static class Payloads
{
    public static PixelDoneEvent PixelDone(IncomingMessage message)
    {
        var pixel = SeccmJson.Deserialize<PixelDoneEvent>(message.Payload.Span, message.Topic);
        Check(Topic.IsValidSegment(pixel.ScanId), message.Topic, "scanId", $"'{pixel.ScanId}' is not a valid scan id");
        Check(pixel.Index >= 0, message.Topic, "index", $"{pixel.Index} must be >= 0");
        Check(pixel.Ix is >= 0 and < 100_000 && pixel.Iy is >= 0 and < 100_000, message.Topic, "ix/iy", $"({pixel.Ix}, {pixel.Iy}) must be 0-99999");
        Check(double.IsFinite(pixel.XUm) && double.IsFinite(pixel.YUm), message.Topic, "xUm/yUm", "must be finite");
        Check(pixel.ContactZUm is null || double.IsFinite(pixel.ContactZUm.Value), message.Topic, "contactZUm", "must be finite");
        return pixel;
    }

    public static ScanStartedEvent Started(IncomingMessage message)
    {
        var started = SeccmJson.Deserialize<ScanStartedEvent>(message.Payload.Span, message.Topic);
        Check(Topic.IsValidSegment(started.ScanId), message.Topic, "scanId", $"'{started.ScanId}' is not a valid scan id");
        Check(started.Nx is > 0 and < 100_000 && started.Ny is > 0 and < 100_000, message.Topic, "nx/ny", $"{started.Nx} x {started.Ny} must be 1-99999 each");
        Check(started.Pixels.All(p => p.Ix >= 0 && p.Ix < started.Nx && p.Iy >= 0 && p.Iy < started.Ny), message.Topic, "pixels",
            "a pixel's ix/iy lies outside nx x ny");
        return started;
    }

    public static ScanFinishedEvent Finished(IncomingMessage message)
    {
        var finished = SeccmJson.Deserialize<ScanFinishedEvent>(message.Payload.Span, message.Topic);
        Check(Topic.IsValidSegment(finished.ScanId), message.Topic, "scanId", $"'{finished.ScanId}' is not a valid scan id");
        return finished;
    }

    /// <summary>A retained result of a worker: its scan id and index must match the topic it came on.</summary>
    public static PixelResultMessage Result(IncomingMessage message)
    {
        var result = SeccmJson.Deserialize<PixelResultMessage>(message.Payload.Span, message.Topic);
        Check(Topic.IsValidSegment(result.ScanId) && message.Topic.Contains($"/{result.ScanId}/", StringComparison.Ordinal),
            message.Topic, "scanId", $"'{result.ScanId}' does not match the topic");
        Check(result.Index >= 0 && message.Topic.EndsWith($"/{result.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)}", StringComparison.Ordinal),
            message.Topic, "index", $"{result.Index} must be >= 0 and match the topic");
        Check(result.Ix is >= 0 and < 100_000 && result.Iy is >= 0 and < 100_000, message.Topic, "ix/iy", $"({result.Ix}, {result.Iy}) must be 0-99999");
        return result;
    }

    /// <summary>Whether a pixel the scan recorded has usable coordinates.</summary>
    public static bool IsUsable(RecordedPixel p) =>
        p.Index >= 0 && p.Ix is >= 0 and < 100_000 && p.Iy is >= 0 and < 100_000 && double.IsFinite(p.XUm) && double.IsFinite(p.YUm)
        && (p.ContactZUm is null || double.IsFinite(p.ContactZUm.Value));

    private static void Check(bool ok, string topic, string field, string problem)
    {
        if (!ok)
        {
            throw new PayloadException($"{topic}: field {field}: {problem}");
        }
    }
}
