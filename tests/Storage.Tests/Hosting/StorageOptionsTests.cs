using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Seccm.Storage.Tests.Hosting;

public sealed class StorageOptionsTests
{
    [Fact]
    public void The_default_is_files_and_valid()
    {
        var options = new StorageOptions();
        Assert.Equal("files", options.Kind);
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData("influxdb1", "Storage:Url")]
    [InlineData("influxdb2", "Storage:Url")]
    [InlineData("influxdb2", "Storage:Token")]
    [InlineData("influxdb2", "Storage:Org")]
    [InlineData("influxdb2", "Storage:Bucket")]
    [InlineData("influxdb1", "Storage:Database")]
    [InlineData("mongodb", "Storage:Kind is 'mongodb'")]
    public void Missing_or_wrong_settings_are_named(string kind, string expected)
    {
        var errors = new StorageOptions { Kind = kind }.Validate();
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_bad_url_and_a_lone_username_are_named()
    {
        var errors = new StorageOptions { Kind = "influxdb1", Url = "localhost:8086", Database = "d", Username = "u" }.Validate();
        Assert.Contains(errors, e => e.Contains("Storage:Url 'localhost:8086'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Storage:Username and Storage:Password", StringComparison.Ordinal));
    }

    [Fact]
    public void Batching_limits_are_checked()
    {
        var errors = new StorageOptions { BatchSize = 0, MaxPendingPoints = -1, FlushIntervalMs = 0 }.Validate();
        Assert.Contains(errors, e => e.Contains("Storage:BatchSize", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Storage:MaxPendingPoints", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Storage:FlushIntervalMs", StringComparison.Ordinal));
    }

    [Fact]
    public void Environment_style_keys_bind_and_select_the_influxdb2_backend()
    {
        using var host = Build(new()
        {
            ["SECCM:STORAGE:KIND"] = "InfluxDB2",
            ["SECCM:STORAGE:URL"] = "http://127.0.0.1:8086",
            ["SECCM:STORAGE:ORG"] = "lab",
            ["SECCM:STORAGE:BUCKET"] = "seccm",
            ["SECCM:STORAGE:TOKEN"] = "t",
        }, section: "SECCM");

        var options = host.Services.GetRequiredService<IOptions<StorageOptions>>().Value;
        Assert.Equal("lab", options.Org);
        var writer = StorageFactory.CreateWriter(options, TimeProvider.System);
        Assert.IsType<Seccm.Storage.Backends.InfluxDb2Writer>(writer);
        Assert.Contains("bucket 'seccm'", writer.Target, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_with_influxdb1_and_no_url_does_not_start_and_names_the_key()
    {
        using var host = Build(new() { ["Storage:Kind"] = "influxdb1", ["Storage:Database"] = "seccm" });

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Storage:Url", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_default_host_writes_files_and_flushes_them_on_shutdown()
    {
        var root = TestPaths.NewTempDirectory("host");
        using var host = Build(new()
        {
            ["Storage:Directory"] = Path.Combine(root, "ts"),
            ["Storage:BufferDirectory"] = Path.Combine(root, "buffer"),
            ["Storage:FlushIntervalMs"] = "60000",
        });
        await host.StartAsync();
        var sink = host.Services.GetRequiredService<ITimeSeriesSink>();
        sink.Write(Points.New(Measurements.ServiceStatus, "seccm-01", "scan", new DateTimeOffset(2026, 2, 3, 4, 5, 6, TimeSpan.Zero)).Field("online", true));

        await host.StopAsync();

        var files = Directory.GetFiles(Path.Combine(root, "ts"), "*.lp", SearchOption.AllDirectories);
        var line = Assert.Single(File.ReadAllLines(Assert.Single(files)));
        Assert.StartsWith("service_status,instrument=seccm-01,service=scan online=true", line, StringComparison.Ordinal);
    }

    private static IHost Build(Dictionary<string, string?> settings, string? section = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        if (section is not null)
        {
            // What AddEnvironmentVariables("SECCM__") produces: SECCM__STORAGE__KIND becomes STORAGE:KIND.
            var prefixed = builder.Configuration.GetSection(section);
            builder.Configuration.AddInMemoryCollection(prefixed.AsEnumerable(makePathsRelative: true)
                .Where(kv => kv.Value is not null).Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value)));
        }
        builder.AddSeccmStorage();
        return builder.Build();
    }
}
