namespace Seccm.Contracts.Messages;

/// <summary>Base of every payload: carries the <c>schema</c> version so readers can tell formats apart.</summary>
public abstract record Payload
{
    /// <summary>The payload format version; bump when a field changes meaning.</summary>
    public int Schema { get; init; } = 1;
}

/// <summary>A command that checks its own arguments; returns the problems, empty when valid.</summary>
public interface IValidatable
{
    IEnumerable<string> Validate();
}
