using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;

namespace Seccm.Messaging.Bus;

/// <summary>How every receiver reads an event, status or result: by its contract, a bad one logged and left alone.</summary>
public static partial class MessageReading
{
    /// <summary>
    /// Reads the message as <typeparamref name="T"/> and runs its checks (<see cref="SeccmJson.DeserializeValid{T}(ReadOnlySpan{byte}, string)"/>).
    /// A payload that does not read is logged as a warning naming the topic, the type, the field and
    /// <paramref name="consequence"/> (what the receiver does about it), and false is returned: no malformed message
    /// stops a receiver. <paramref name="matches"/> is a check of the payload against its topic (a problem or null).
    /// </summary>
    public static bool TryRead<T>(this IncomingMessage message, ILogger logger, string consequence, [NotNullWhen(true)] out T? value,
        Func<string, T, string?>? matches = null)
        where T : IValidatable
    {
        try
        {
            value = SeccmJson.DeserializeValid<T>(message.Payload.Span, message.Topic);
            if (matches?.Invoke(message.Topic, value) is { } mismatch)
            {
                throw new PayloadException($"{message.Topic}: {mismatch}", invalidFields: true);
            }
            return true;
        }
        catch (PayloadException ex)
        {
            LogIgnored(logger, consequence, ex.Message);
            value = default;
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a message ({Consequence}): {Reason}")]
    private static partial void LogIgnored(ILogger logger, string consequence, string reason);
}
