using Seccm.TestSupport;

namespace Seccm.Storage.Tests;

/// <summary>One real influxd for every test that needs it; each test uses its own database.</summary>
public sealed class InfluxdFixture : IAsyncLifetime
{
    private InfluxdServer? _server;

    public InfluxdServer Server => _server ?? throw new InvalidOperationException("influxd not started");

    public async Task InitializeAsync() => _server = await InfluxdServer.StartNewAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A database name no other test uses.</summary>
    public static string NewDatabase(string purpose) => $"{purpose}_{Guid.NewGuid():N}"[..Math.Min(purpose.Length + 13, 60)];
}

[CollectionDefinition(Name)]
public sealed class InfluxdCollection : ICollectionFixture<InfluxdFixture>
{
    public const string Name = "influxd";
}

/// <summary>Helpers shared by the storage tests.</summary>
internal static class TestPaths
{
    public static string NewTempDirectory(string purpose) => Directory.CreateTempSubdirectory($"seccm-{purpose}-").FullName;

    /// <summary>Waits for a condition with a generous hang-detection timeout (not a performance limit).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, int timeoutS = 120)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(timeoutS);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Hang: {what} not reached within {timeoutS} s.");
            }
            await Task.Delay(50);
        }
    }
}
