namespace Seccm.Storage.Backends;

/// <summary>One backend: takes a batch of line-protocol lines (ns precision) and says what happened.</summary>
/// <remarks>Implementations do not throw for transport or server errors; they classify them.</remarks>
internal interface ILineProtocolWriter : IAsyncDisposable
{
    /// <summary>Where the points go, for log messages ("InfluxDB 1.x http://127.0.0.1:8086 db=seccm").</summary>
    string Target { get; }

    Task<WriteOutcome> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken);
}

internal enum WriteOutcomeKind
{
    /// <summary>Stored.</summary>
    Ok,

    /// <summary>Unreachable, timed out, 5xx, auth or similar: the data is fine, try again later.</summary>
    Retry,

    /// <summary>The server refused the data itself (4xx): retrying would fail forever.</summary>
    Reject,
}

internal readonly record struct WriteOutcome(WriteOutcomeKind Kind, string Message)
{
    public static WriteOutcome Ok { get; } = new(WriteOutcomeKind.Ok, "");

    public static WriteOutcome Retry(string message) => new(WriteOutcomeKind.Retry, message);

    public static WriteOutcome Reject(string message) => new(WriteOutcomeKind.Reject, message);
}
