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

/// <summary>
/// Commands both ways over one bus: answers <c>cmd/{verb}</c> with handlers (payload parsed and validated first, an
/// error reply for anything wrong), and sends commands with a response topic and correlation data, matching replies
/// to the requests waiting for them.
/// </summary>
internal sealed partial class RequestReply
{
    private const int MaxConcurrentCommands = 32;
    private static readonly byte[] EmptyObject = "{}"u8.ToArray();
    private readonly ConcurrentDictionary<string, CommandRoute> _commands = new();
    private readonly ConcurrentDictionary<string, PendingRequest> _pending = new();
    // Status topics of the services this bus sends commands to, and those seen going offline (live, not retained).
    private readonly ConcurrentDictionary<string, byte> _watchedTargets = new();
    private readonly ConcurrentDictionary<string, ServiceStatus> _offlineTargets = new();
    private readonly SemaphoreSlim _commandSlots = new(MaxConcurrentCommands);
    private readonly SubscriptionRouter _router;
    private readonly Outbox _outbox;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _service;
    private readonly string _instrument;
    private readonly string _clientId;
    private readonly string _replyTopic;
    private readonly Func<CancellationToken> _stop;
    private int _commandsSubscribed;
    private int _repliesSubscribed;

    public RequestReply(SubscriptionRouter router, Outbox outbox, string service, string instrument, string clientId, ILogger logger, TimeProvider time,
        Func<CancellationToken> stop)
    {
        _router = router;
        _outbox = outbox;
        _service = service;
        _instrument = instrument;
        _clientId = clientId;
        _logger = logger;
        _time = time;
        _stop = stop;
        _replyTopic = Topic.Reply(instrument, service, clientId);
    }

    public IEnumerable<string> Verbs => _commands.Keys.Order(StringComparer.Ordinal);

    /// <summary>Commands received and not yet answered (their reply not yet queued).</summary>
    public int Running => MaxConcurrentCommands - _commandSlots.CurrentCount;

    /// <summary>
    /// Answers <c>cmd/{verb}</c>. With <paramref name="shareGroup"/> the verb has its own shared subscription
    /// (<c>$share/{group}/.../cmd/{verb}</c>), so one member of the group answers each command; the plain <c>cmd/+</c>
    /// subscription (other verbs, <c>ping</c>, the error reply to unknown verbs) leaves its copies of that verb alone.
    /// </summary>
    public async Task MapAsync<TCommand>(string verb, Func<TCommand, CancellationToken, Task<JsonElement?>> handler,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TCommand>? typeInfo, string? shareGroup = null)
    {
        Topic.CheckSegment(verb, "verb");
        if (shareGroup is not null)
        {
            Topic.CheckSegment(shareGroup, "share group");
        }
        if (!_commands.TryAdd(verb, new CommandRoute((payload, where, ct) => handler(Parse(payload, where, typeInfo), ct), shareGroup)))
        {
            throw new InvalidOperationException($"{_service} already answers '{verb}'.");
        }
        await EnsureCommandSubscriptionAsync().ConfigureAwait(false);
        if (shareGroup is not null)
        {
            await _router.AddAsync(Topic.Command(_instrument, _service, verb), OnCommandAsync, MqttQualityOfServiceLevel.AtLeastOnce, 10_000,
                acknowledgeAfterHandling: false, _stop(), shareGroup).ConfigureAwait(false);
        }
    }

    /// <summary>Starts answering commands (at least <c>cmd/ping</c>) even before any other verb is mapped.</summary>
    public async Task EnsureCommandSubscriptionAsync()
    {
        if (Interlocked.Exchange(ref _commandsSubscribed, 1) == 0)
        {
            _commands.TryAdd("ping", new CommandRoute(async (payload, where, ct) =>
            {
                var ping = Parse<PingCommand>(payload, where, null);
                await Task.CompletedTask.ConfigureAwait(false);
                return SeccmJson.ToElement(new PingResult(_service, _instrument, _time.GetUtcNow(), ping.Text));
            }, null));
            await SubscribeAsync(Topic.CommandFilter(_instrument, _service), OnPlainCommandAsync).ConfigureAwait(false);
        }
    }

    public async Task<CommandReply> RequestAsync(string commandTopic, byte[] payload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await EnsureReplySubscriptionAsync().ConfigureAwait(false);
        var targetStatus = Topic.Parse(commandTopic) is { Kind: TopicKind.Cmd } target ? Topic.Status(target.Instrument, target.Service) : null;
        if (targetStatus is not null)
        {
            await WatchTargetAsync(targetStatus).ConfigureAwait(false);
            if (_offlineTargets.TryGetValue(targetStatus, out var gone))
            {
                throw TargetOffline(commandTopic, gone, "is offline");
            }
        }
        var correlation = Guid.NewGuid().ToByteArray();
        var key = Convert.ToHexString(correlation);
        var reply = new TaskCompletionSource<CommandReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[key] = new PendingRequest(reply, commandTopic, targetStatus);
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
            await _outbox.EnqueueAsync(message, cancellationToken).ConfigureAwait(false);
            try
            {
                return await reply.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException) when (!reply.Task.IsFaulted)
            {
                throw new CommandTimeoutException($"No reply to '{commandTopic}' within {timeout.TotalSeconds:0.###} s.");
            }
        }
        finally
        {
            _pending.TryRemove(key, out _);
        }
    }

    /// <summary>The bus stops: nobody waits for a reply any more.</summary>
    public void CancelPending()
    {
        foreach (var pending in _pending.Values)
        {
            pending.Reply.TrySetCanceled();
        }
    }

    // The target's last will (or clean stop) says offline: no reply is coming, so nobody waits out the timeout.
    // Only a live status counts; a retained offline may be a previous run's, with a new process about to answer.
    private async Task WatchTargetAsync(string statusTopic)
    {
        if (!_watchedTargets.TryAdd(statusTopic, 0))
        {
            return;
        }
        await _router.ObserveAsync(statusTopic, (message, _) =>
        {
            ServiceStatus status;
            try
            {
                status = SeccmJson.Deserialize<ServiceStatus>(message.Payload.Span, message.Topic);
            }
            catch (PayloadException)
            {
                return Task.CompletedTask;
            }
            if (status.IsOnline)
            {
                _offlineTargets.TryRemove(message.Topic, out ServiceStatus? _);
            }
            else if (!message.Retain)
            {
                _offlineTargets[message.Topic] = status;
                foreach (var pending in _pending.Values.Where(p => p.TargetStatus == message.Topic))
                {
                    pending.Reply.TrySetException(TargetOffline(pending.CommandTopic, status, "went offline"));
                }
            }
            return Task.CompletedTask;
        }, _stop()).ConfigureAwait(false);
    }

    private static CommandTargetOfflineException TargetOffline(string commandTopic, ServiceStatus status, string what) =>
        new(FormattableString.Invariant(
            $"No reply to '{commandTopic}': {status.Service} {what} (status '{status.State}' at {status.TimestampUtc:HH:mm:ss.fff} UTC)."));

    private sealed record CommandRoute(Func<ReadOnlyMemory<byte>, string, CancellationToken, Task<JsonElement?>> Handle, string? ShareGroup);

    private sealed record PendingRequest(TaskCompletionSource<CommandReply> Reply, string CommandTopic, string? TargetStatus);

    private Task SubscribeAsync(string filter, Func<IncomingMessage, CancellationToken, Task> handler) =>
        _router.AddAsync(filter, handler, MqttQualityOfServiceLevel.AtLeastOnce, 10_000, acknowledgeAfterHandling: false, _stop());

    private static TCommand Parse<TCommand>(ReadOnlyMemory<byte> payload, string where,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TCommand>? typeInfo)
    {
        var command = SeccmJson.Deserialize(payload.IsEmpty ? EmptyObject : payload.Span, where, typeInfo);
        ThrowIfInvalid(command, where);
        return command;
    }

    /// <summary>
    /// The receiver's own check (<see cref="IValidatable"/>), run by the receiver on every command and by the sender
    /// before sending one, so that a message one service builds for another is never refused over its contract.
    /// </summary>
    public static void ThrowIfInvalid<TCommand>(TCommand command, string where)
    {
        if (command is IValidatable validatable)
        {
            var problems = validatable.Validate().ToList();
            if (problems.Count > 0)
            {
                throw CommandException.Invalid($"{where}: {string.Join("; ", problems)}");
            }
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

    // cmd/+: every verb but those with a shared subscription of their own (which answers them once per group).
    private Task OnPlainCommandAsync(IncomingMessage message, CancellationToken stop) =>
        _commands.TryGetValue(VerbOf(message.Topic), out var route) && route.ShareGroup is not null
            ? Task.CompletedTask
            : OnCommandAsync(message, stop);

    private static string VerbOf(string topic) => topic[(topic.LastIndexOf('/') + 1)..];

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
        var verb = VerbOf(message.Topic);
        CommandReply reply;
        if (message.Retain)
        {
            // Delivered from the broker's store, not live: someone published it with retain (mosquitto_pub -r), and
            // it would run again at every restart and resubscription. Refused, with how to clear it.
            reply = Error(ErrorCodes.Refused,
                $"{Clip(message.Topic)}: a retained command is not carried out (it would run again at every restart); publish commands " +
                $"without retain, and clear this one: mosquitto_pub -r -n -t '{Clip(message.Topic)}'.");
        }
        else if (!_commands.TryGetValue(verb, out var route))
        {
            reply = Error(ErrorCodes.UnknownCommand,
                $"{message.Topic}: {_service} has no command '{Clip(verb)}'; it answers {string.Join(", ", Verbs)}.");
        }
        else
        {
            try
            {
                var result = await route.Handle(message.Payload, message.Topic, stop).ConfigureAwait(false);
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
                reply = Error(ErrorCodes.Refused, $"{message.Topic}: {_service} is shutting down.");
            }
            catch (Exception ex)
            {
                LogCommandFailed(_logger, ex, _clientId, message.Topic);
                reply = Error(ErrorCodes.Internal, $"{message.Topic}: {ex.GetType().Name}: {ex.Message}");
            }
        }
        if (!reply.Ok)
        {
            LogCommandRefused(_logger, _clientId, Clip(message.Topic), reply.Error!.Code, reply.Error.Message);
        }
        // A command without a response topic (an MQTT 3.1.1 client, mosquitto_pub) is carried out all the same; its
        // reply, an error above all, goes where such a client can see it.
        var replyTopic = string.IsNullOrEmpty(message.ResponseTopic) ? Topic.Event(_instrument, _service, MqttBus.UnaddressedReplyEvent) : message.ResponseTopic;
        var replyMessage = new MqttApplicationMessageBuilder()
            .WithTopic(replyTopic)
            .WithPayload(SeccmJson.Serialize(reply))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithCorrelationData(message.CorrelationData ?? [])
            .WithContentType("application/json")
            .Build();
        await _outbox.EnqueueAsync(replyMessage, stop).ConfigureAwait(false);
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
            waiting.Reply.TrySetResult(SeccmJson.Deserialize<CommandReply>(message.Payload.Span, message.Topic));
        }
        catch (PayloadException ex)
        {
            waiting.Reply.TrySetResult(Error(ErrorCodes.BadPayload, ex.Message));
        }
    }

    private static string Clip(string text) => text.Length <= 120 ? text : text[..120] + "...";

    [LoggerMessage(Level = LogLevel.Error, Message = "{ClientId}: command on '{Topic}' failed")]
    private static partial void LogCommandFailed(ILogger logger, Exception ex, string clientId, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{ClientId}: refused command on '{Topic}': [{Code}] {Message}")]
    private static partial void LogCommandRefused(ILogger logger, string clientId, string topic, string code, string message);
}
