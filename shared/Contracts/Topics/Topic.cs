using System.Text.RegularExpressions;

namespace Seccm.Contracts.Topics;

/// <summary>
/// The one place that builds and parses topic names: <c>seccm/{instrument}/{service}/{kind}/...</c>.
/// Every segment given by a user (instrument, scan id, verb) is checked so that no wildcard or separator
/// can sneak into a topic.
/// </summary>
public static partial class Topic
{
    public const string Root = "seccm";

    /// <summary>Segments are 1-64 characters of letters, digits, '-', '_' and '.'.</summary>
    public static bool IsValidSegment(string? segment) => segment is not null && SegmentPattern().IsMatch(segment);

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="what"/> if the segment is unusable.</summary>
    public static string CheckSegment(string? segment, string what) =>
        IsValidSegment(segment)
            ? segment!
            : throw new ArgumentException(
                $"{what} '{segment}' is not a valid topic segment: use 1-64 letters, digits, '-', '_' or '.'.", what);

    public static string Status(string instrument, string service) => Build(instrument, service, TopicKind.Status);

    public static string Telemetry(string instrument, string service, string name) =>
        Build(instrument, service, TopicKind.Telemetry, name);

    public static string Event(string instrument, string service, string name) =>
        Build(instrument, service, TopicKind.Event, name);

    public static string Command(string instrument, string service, string verb) =>
        Build(instrument, service, TopicKind.Cmd, verb);

    /// <summary>The filter a service subscribes to for all of its commands.</summary>
    public static string CommandFilter(string instrument, string service) =>
        $"{Root}/{CheckSegment(instrument, "instrument")}/{CheckSegment(service, "service")}/cmd/+";

    /// <summary>Where a client with <paramref name="clientSegment"/> wants its replies.</summary>
    public static string Reply(string instrument, string service, string clientSegment) =>
        Build(instrument, service, TopicKind.Reply, clientSegment);

    /// <summary>Measured curves of a scan: <c>seccm/{i}/potentiostat/data/{scanId}/{name}</c>.</summary>
    public static string Data(string instrument, string scanId, string name) =>
        Build(instrument, ServiceNames.Potentiostat, TopicKind.Data, CheckSegment(scanId, "scan id"), name);

    /// <summary>Filter for every data message of every scan of one instrument.</summary>
    public static string DataFilter(string instrument) =>
        $"{Root}/{CheckSegment(instrument, "instrument")}/{ServiceNames.Potentiostat}/data/#";

    /// <summary>Per-pixel results and map updates: <c>seccm/{i}/diffusion/result/{scanId}/{name}</c>.</summary>
    public static string Result(string instrument, string scanId, string name) =>
        Build(instrument, ServiceNames.Diffusion, TopicKind.Result, CheckSegment(scanId, "scan id"), name);

    public static string ResultFilter(string instrument) =>
        $"{Root}/{CheckSegment(instrument, "instrument")}/{ServiceNames.Diffusion}/result/#";

    /// <summary>Every status of every service of one instrument (or of all, with <c>+</c>).</summary>
    public static string StatusFilter(string instrument) =>
        instrument == "+" ? $"{Root}/+/+/status" : $"{Root}/{CheckSegment(instrument, "instrument")}/+/status";

    /// <summary>An MQTT 5 shared-subscription filter: <c>$share/{group}/{filter}</c>.</summary>
    public static string Shared(string group, string filter) => $"$share/{CheckSegment(group, "share group")}/{filter}";

    public static string Build(string instrument, string service, TopicKind kind, params string[] rest)
    {
        var parts = new List<string>(4 + rest.Length)
        {
            Root,
            CheckSegment(instrument, "instrument"),
            CheckSegment(service, "service"),
            KindSegment(kind),
        };
        foreach (var segment in rest)
        {
            parts.Add(CheckSegment(segment, "topic segment"));
        }
        return string.Join('/', parts);
    }

    /// <summary>Splits a topic of our tree; null when it is not one.</summary>
    public static ParsedTopic? Parse(string topic)
    {
        var parts = topic.Split('/');
        if (parts.Length < 4 || parts[0] != Root || !IsValidSegment(parts[1]) || !IsValidSegment(parts[2]))
        {
            return null;
        }
        if (!Enum.TryParse<TopicKind>(parts[3], ignoreCase: true, out var kind) || KindSegment(kind) != parts[3])
        {
            return null;
        }
        return new ParsedTopic(parts[1], parts[2], kind, parts[4..]);
    }

    public static string KindSegment(TopicKind kind) => kind switch
    {
        TopicKind.Status => "status",
        TopicKind.Telemetry => "telemetry",
        TopicKind.Event => "event",
        TopicKind.Cmd => "cmd",
        TopicKind.Reply => "reply",
        TopicKind.Data => "data",
        TopicKind.Result => "result",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex SegmentPattern();
}

/// <summary>A topic split into its parts.</summary>
public sealed record ParsedTopic(string Instrument, string Service, TopicKind Kind, IReadOnlyList<string> Rest);
