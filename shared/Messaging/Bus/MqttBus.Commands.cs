using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Commands;

namespace Seccm.Messaging.Bus;

public sealed partial class MqttBus
{
    private const int MaxConcurrentCommands = 32;

    /// <summary><c>event/reply</c>: the reply to a command that named no response topic.</summary>
    public const string UnaddressedReplyEvent = "reply";
    private static readonly byte[] EmptyObject = "{}"u8.ToArray();
    private readonly ConcurrentDictionary<string, Func<ReadOnlyMemory<byte>, string, CancellationToken, Task<JsonElement?>>> _commands = new();
    private readonly SemaphoreSlim _commandSlots = new(MaxConcurrentCommands);
    private int _commandsSubscribed;
    private int _repliesSubscribed;

    /// <summary>The verbs this service answers.</summary>
    public IEnumerable<string> Verbs => _commands.Keys.Order(StringComparer.Ordinal);

    /// <summary>
    /// Answers <c>cmd/{verb}</c> with <paramref name="handler"/>. The payload is parsed as <typeparamref name="TCommand"/>
    /// and validated (<see cref="IValidatable"/>) before the handler sees it; a bad payload gets an error reply and
    /// changes nothing. Handlers run concurrently (a <c>stop</c> must not wait for a running <c>approach</c>).
    /// </summary>
    public Task MapCommandAsync<TCommand, TResult>(string verb, Func<TCommand, CancellationToken, Task<TResult>> handler)
    {
        Topic.CheckSegment(verb, "verb");
        if (!_commands.TryAdd(verb, async (payload, where, ct) =>
            {
                var command = Parse<TCommand>(payload, where, null);
                var result = await handler(command, ct).ConfigureAwait(false);
                return SeccmJson.ToElement(result);
            }))
        {
            throw new InvalidOperationException($"{Service} already answers '{verb}'.");
        }
        return EnsureCommandSubscriptionAsync();
    }

    /// <summary>Answers <c>cmd/{verb}</c> with a handler that returns no result.</summary>
    public Task MapCommandAsync<TCommand>(string verb, Func<TCommand, CancellationToken, Task> handler,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TCommand>? typeInfo = null)
    {
        Topic.CheckSegment(verb, "verb");
        if (!_commands.TryAdd(verb, async (payload, where, ct) =>
            {
                var command = Parse(payload, where, typeInfo);
                await handler(command, ct).ConfigureAwait(false);
                return null;
            }))
        {
            throw new InvalidOperationException($"{Service} already answers '{verb}'.");
        }
        return EnsureCommandSubscriptionAsync();
    }

    /// <summary>Sends <c>cmd/{verb}</c> to a service of this instrument and waits for its reply.</summary>
    public Task<CommandReply> RequestAsync<TCommand>(string service, string verb, TCommand command, TimeSpan timeout,
        CancellationToken cancellationToken = default) =>
        RequestToAsync(Topic.Command(Instrument, service, verb), command, timeout, cancellationToken);

    /// <summary>Sends a command to any command topic (another instrument's, for a facility tool) and waits for the reply.</summary>
    public Task<CommandReply> RequestToAsync<TCommand>(string commandTopic, TCommand command, TimeSpan timeout,
        CancellationToken cancellationToken = default) =>
        RequestRawAsync(commandTopic, SeccmJson.Serialize(command), timeout, cancellationToken);

    /// <summary>Sends any bytes as a command and waits for the reply (tools, tests of malformed input).</summary>
    public async Task<CommandReply> RequestRawAsync(string commandTopic, byte[] payload, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        await EnsureReplySubscriptionAsync().ConfigureAwait(false);
        var correlation = Guid.NewGuid().ToByteArray();
        var key = Convert.ToHexString(correlation);
        var reply = new TaskCompletionSource<CommandReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[key] = reply;
        try
        {
            var message = new MqttApplicationMessageBuilder()
                .WithTopic(commandTopic)
                .WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithResponseTopic(_replyTopic)
                .WithCorrelationData(correlation)
                .WithContentType("application/json")
                .Build();
            await _outgoing.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            try
            {
                return await reply.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new CommandTimeoutException($"No reply to '{commandTopic}' within {timeout.TotalSeconds:0.###} s.");
            }
        }
        finally
        {
            _pending.TryRemove(key, out _);
        }
    }

    /// <summary>Like <see cref="RequestAsync{TCommand}"/> but throws <see cref="CommandFailedException"/> on an error reply.</summary>
    public async Task<TResult> CallAsync<TCommand, TResult>(string service, string verb, TCommand command, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(service, verb, command, timeout, cancellationToken).ConfigureAwait(false);
        if (!reply.Ok)
        {
            throw new CommandFailedException(service, verb, reply.Error ?? new CommandError(ErrorCodes.Internal, "no error given"));
        }
        if (reply.Result is not { } result)
        {
            throw new CommandFailedException(service, verb, new CommandError(ErrorCodes.Internal, "the reply carries no result"));
        }
        return SeccmJson.Deserialize<TResult>(result, $"reply of {service}/{verb}");
    }

    /// <summary>Sends a command and throws <see cref="CommandFailedException"/> on an error reply; ignores any result.</summary>
    public async Task CallAsync<TCommand>(string service, string verb, TCommand command, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(service, verb, command, timeout, cancellationToken).ConfigureAwait(false);
        if (!reply.Ok)
        {
            throw new CommandFailedException(service, verb, reply.Error ?? new CommandError(ErrorCodes.Internal, "no error given"));
        }
    }

    private static TCommand Parse<TCommand>(ReadOnlyMemory<byte> payload, string where,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TCommand>? typeInfo)
    {
        var command = SeccmJson.Deserialize(payload.IsEmpty ? EmptyObject : payload.Span, where, typeInfo);
        if (command is IValidatable validatable)
        {
            var problems = validatable.Validate().ToList();
            if (problems.Count > 0)
            {
                throw CommandException.Invalid($"{where}: {string.Join("; ", problems)}");
            }
        }
        return command;
    }

    private async Task EnsureCommandSubscriptionAsync()
    {
        if (Interlocked.Exchange(ref _commandsSubscribed, 1) == 0)
        {
            _commands.TryAdd("ping", async (payload, where, ct) =>
            {
                var ping = Parse<PingCommand>(payload, where, null);
                await Task.CompletedTask.ConfigureAwait(false);
                return SeccmJson.ToElement(new PingResult(Service, Instrument, _time.GetUtcNow(), ping.Text));
            });
            await SubscribeAsync(Topic.CommandFilter(Instrument, Service), OnCommandAsync).ConfigureAwait(false);
        }
    }

    private async Task EnsureReplySubscriptionAsync()
    {
        if (Interlocked.Exchange(ref _repliesSubscribed, 1) == 0)
        {
            await SubscribeAsync(_replyTopic, (message, _) =>
            {
                HandleReply(message);
                return Task.CompletedTask;
            }).ConfigureAwait(false);
        }
    }

    /// <summary>Starts answering commands (at least <c>cmd/ping</c>) even before any other verb is mapped.</summary>
    public Task ListenForCommandsAsync() => EnsureCommandSubscriptionAsync();

    private async Task OnCommandAsync(IncomingMessage message, CancellationToken stop)
    {
        await _commandSlots.WaitAsync(stop).ConfigureAwait(false);
        _ = Task.Run(async () =>
        {
            try
            {
                await HandleCommandAsync(message, stop).ConfigureAwait(false);
            }
            finally
            {
                _commandSlots.Release();
            }
        }, CancellationToken.None);
    }

    private async Task HandleCommandAsync(IncomingMessage message, CancellationToken stop)
    {
        var verb = message.Topic[(message.Topic.LastIndexOf('/') + 1)..];
        CommandReply reply;
        if (!_commands.TryGetValue(verb, out var route))
        {
            reply = Error(ErrorCodes.UnknownCommand,
                $"{message.Topic}: {Service} has no command '{Clip(verb)}'; it answers {string.Join(", ", Verbs)}.");
        }
        else
        {
            try
            {
                var result = await route(message.Payload, message.Topic, stop).ConfigureAwait(false);
                reply = new CommandReply(true, result);
            }
            catch (PayloadException ex)
            {
                reply = Error(ErrorCodes.BadPayload, ex.Message);
            }
            catch (CommandException ex)
            {
                reply = Error(ex.Code, ex.Message);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                reply = Error(ErrorCodes.Refused, $"{message.Topic}: {Service} is shutting down.");
            }
            catch (Exception ex)
            {
                LogCommandFailed(_logger, ex, ClientId, message.Topic);
                reply = Error(ErrorCodes.Internal, $"{message.Topic}: {ex.GetType().Name}: {ex.Message}");
            }
        }
        if (!reply.Ok)
        {
            LogCommandRefused(_logger, ClientId, Clip(message.Topic), reply.Error!.Code, reply.Error.Message);
        }
        // A command without a response topic (an MQTT 3.1.1 client, mosquitto_pub) is carried out all the same; its
        // reply, an error above all, goes where such a client can see it.
        var replyTopic = string.IsNullOrEmpty(message.ResponseTopic) ? Topic.Event(Instrument, Service, UnaddressedReplyEvent) : message.ResponseTopic;
        var replyMessage = new MqttApplicationMessageBuilder()
            .WithTopic(replyTopic)
            .WithPayload(SeccmJson.Serialize(reply))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithCorrelationData(message.CorrelationData ?? [])
            .WithContentType("application/json")
            .Build();
        await _outgoing.Writer.WriteAsync(replyMessage, stop).ConfigureAwait(false);
    }

    private static CommandReply Error(string code, string message) => new(false, null, new CommandError(code, message));

    private void HandleReply(IncomingMessage message)
    {
        if (message.CorrelationData is null)
        {
            return;
        }
        if (!_pending.TryGetValue(Convert.ToHexString(message.CorrelationData), out var waiting))
        {
            return;
        }
        try
        {
            waiting.TrySetResult(SeccmJson.Deserialize<CommandReply>(message.Payload.Span, message.Topic));
        }
        catch (PayloadException ex)
        {
            waiting.TrySetResult(Error(ErrorCodes.BadPayload, ex.Message));
        }
    }

    private static string Clip(string text) => text.Length <= 120 ? text : text[..120] + "...";

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: command on '{Topic}' failed")]
    private static partial void LogCommandFailed(ILogger logger, Exception ex, string clientId, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{ClientId}: refused command on '{Topic}': [{Code}] {Message}")]
    private static partial void LogCommandRefused(ILogger logger, string clientId, string topic, string code, string message);
}
