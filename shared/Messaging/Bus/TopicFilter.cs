using MQTTnet;

namespace Seccm.Messaging.Bus;

/// <summary>MQTT topic-filter matching (<c>+</c> one level, <c>#</c> the rest) as MQTTnet does it, for services that route by filter.</summary>
public static class TopicFilter
{
    public static bool Matches(string filter, string topic) =>
        MqttTopicFilterComparer.Compare(topic, WithoutShare(filter)) == MqttTopicFilterCompareResult.IsMatch;

    /// <summary>The filter of an MQTT 5 shared subscription (<c>$share/{group}/{filter}</c>) without its group prefix.</summary>
    public static string WithoutShare(string filter)
    {
        if (!filter.StartsWith("$share/", StringComparison.Ordinal))
        {
            return filter;
        }
        var afterGroup = filter.IndexOf('/', "$share/".Length);
        return afterGroup < 0 ? filter : filter[(afterGroup + 1)..];
    }
}
