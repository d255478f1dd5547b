using Seccm.Contracts.Scan;

namespace Seccm.Scan.Orchestration;

/// <summary>Where the runner reports what happens: MQTT and the time-series sink in production.</summary>
internal interface IScanEvents
{
    Task StartedAsync(ScanStartedEvent started, CancellationToken cancellationToken);

    Task PixelDoneAsync(PixelDoneEvent pixel, CancellationToken cancellationToken);

    Task ProgressAsync(ScanProgress progress, CancellationToken cancellationToken);

    Task StateChangedAsync(ScanStateEvent change, CancellationToken cancellationToken);

    Task FinishedAsync(ScanFinishedEvent finished, CancellationToken cancellationToken);
}

/// <summary>Whether it is safe to scan now, and why not.</summary>
internal interface IInterlocks
{
    InterlockVerdict Check(GloveboxLimits limits);
}

internal sealed record InterlockVerdict(bool Safe, string Reason)
{
    public static InterlockVerdict Ok { get; } = new(true, "all services online, atmosphere within limits");
}
