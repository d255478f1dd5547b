using Seccm.Contracts.Messages;

namespace Seccm.Messaging.Commands;

/// <summary>Thrown by a command handler to refuse a command with a code and a message for the caller.</summary>
public class CommandException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;

    public static CommandException Invalid(string message) => new(ErrorCodes.InvalidArgument, message);

    public static CommandException Refused(string message) => new(ErrorCodes.Refused, message);
}

/// <summary>A command sent by this process was answered with an error.</summary>
public sealed class CommandFailedException(string service, string verb, CommandError error)
    : CommandException(error.Code, $"{service} refused '{verb}': [{error.Code}] {error.Message}")
{
    public string TargetService { get; } = service;

    public string Verb { get; } = verb;

    public CommandError Error { get; } = error;
}

/// <summary>No reply came within the timeout.</summary>
public sealed class CommandTimeoutException(string message) : TimeoutException(message);

/// <summary>No reply is coming: the service the command went to went offline (its last will) while it was pending.</summary>
public sealed class CommandTargetOfflineException(string message) : TimeoutException(message);
