namespace Seccm.Contracts.Topics;

/// <summary>The five services and the other clients that appear in the topic tree.</summary>
public static class ServiceNames
{
    public const string Stage = "stage";
    public const string Potentiostat = "potentiostat";
    public const string Scan = "scan";
    public const string Diffusion = "diffusion";
    public const string Glovebox = "glovebox";

    /// <summary>Command-line clients (seccm scan start ...) and operators' tools.</summary>
    public const string Cli = "cli";

    /// <summary>The five services, in start order.</summary>
    public static IReadOnlyList<string> All { get; } = [Glovebox, Stage, Potentiostat, Diffusion, Scan];
}
