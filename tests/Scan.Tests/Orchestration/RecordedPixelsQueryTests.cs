using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Messaging.Commands;
using Seccm.Messaging.Hosting;
using Seccm.Scan.Checkpoints;
using Seccm.Scan.Orchestration;
using Seccm.TestSupport;

namespace Seccm.Scan.Tests.Orchestration;

public sealed class RecordedPixelsQueryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("seccm-scan-pixels-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // 3 x 2, snake: the second row runs right to left.
    private static readonly Recipe Recipe = new("pixels", new GridSpec(3, 2, 2.0), Origin: new PointSpec(10, 20));

    private static ScanCheckpoint Checkpoint(string scanId, ScanState state, params PixelRecord[] done) =>
        new(scanId, Recipe, state, DateTimeOffset.UnixEpoch, done);

    [Fact]
    public void A_finished_scan_lists_its_pixels_with_their_raster_place_and_contact()
    {
        var store = new CheckpointStore(_dir);
        store.Archive(Checkpoint("scan-f", ScanState.Completed,
            new PixelRecord(0, true, -1.25), new PixelRecord(3, false, null), new PixelRecord(4, true, -1.5)));

        var result = RecordedPixelsQuery.Answer(store, new ScanPixelsCommand("scan-f"));

        Assert.Equal(("scan-f", ScanState.Completed, 6), (result.ScanId, result.State, result.PixelsTotal));
        Assert.Equal(
            [new RecordedPixel(0, 0, 0, 10, 20, true, -1.25), new RecordedPixel(3, 2, 1, 14, 22, false, null), new RecordedPixel(4, 1, 1, 12, 22, true, -1.5)],
            result.Pixels);
    }

    [Fact]
    public void The_active_scan_answers_from_its_last_checkpoint_and_another_scan_id_is_refused_by_name()
    {
        var store = new CheckpointStore(_dir);
        store.Save(Checkpoint("scan-a", ScanState.Running, new PixelRecord(0, true, 1)));

        Assert.Equal([0], RecordedPixelsQuery.Answer(store, new ScanPixelsCommand("scan-a")).Pixels.Select(p => p.Index));
        var refused = Assert.Throws<CommandException>(() => RecordedPixelsQuery.Answer(store, new ScanPixelsCommand("scan-b")));
        Assert.Equal(ErrorCodes.InvalidArgument, refused.Code);
        Assert.Contains("scan 'scan-b'", refused.Message, StringComparison.Ordinal);
        Assert.Contains(_dir, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_naming_a_pixel_outside_its_recipe_is_an_error_not_a_wrong_answer()
    {
        var store = new CheckpointStore(_dir);
        store.Archive(Checkpoint("scan-x", ScanState.Completed, new PixelRecord(6, true, 0)));

        var error = Assert.Throws<CommandException>(() => RecordedPixelsQuery.Answer(store, new ScanPixelsCommand("scan-x")));
        Assert.Contains("pixel 6, outside the recipe's 6 pixels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_scan_service_answers_cmd_pixels_over_mqtt_and_refuses_a_bad_scan_id()
    {
        const string Instrument = "sp1";
        var port = FreePort.Next();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Instrument"] = Instrument,
            ["Mqtt:Host"] = "127.0.0.1",
            ["Mqtt:Port"] = port.ToString(CultureInfo.InvariantCulture),
            ["Storage:Directory"] = Path.Combine(_dir, "timeseries"),
            ["Storage:BufferDirectory"] = Path.Combine(_dir, "buffer"),
            ["Scan:StateDirectory"] = Path.Combine(_dir, "state"),
        });
        builder.Services.AddLogging();
        builder.AddEmbeddedBroker();
        builder.AddScanService();
        new CheckpointStore(Path.Combine(_dir, "state", Instrument)).Archive(Checkpoint("scan-m", ScanState.Completed,
            new PixelRecord(0, true, -1), new PixelRecord(1, true, -1.1)));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            await using var client = new MqttBus(ServiceNames.Cli, new SeccmOptions { Instrument = Instrument }, new MqttOptions { Host = "127.0.0.1", Port = port },
                NullLogger.Instance, TimeProvider.System);
            await client.StartAsync(CancellationToken.None);
            await client.WaitConnectedAsync(TimeSpan.FromSeconds(30), CancellationToken.None);

            // The service subscribes to its commands in the background: ask again until it is in place.
            ScanPixelsResult? result = null;
            await Eventually.TrueAsync(() =>
            {
                try
                {
                    result = client.CallAsync<ScanPixelsCommand, ScanPixelsResult>(ServiceNames.Scan, ScanTopics.PixelsVerb,
                        new ScanPixelsCommand("scan-m"), TimeSpan.FromSeconds(2)).GetAwaiter().GetResult();
                    return true;
                }
                catch (CommandTimeoutException)
                {
                    return false;
                }
            }, "an answer to cmd/pixels", TimeSpan.FromSeconds(60));
            Assert.Equal([(0, 0, 0), (1, 1, 0)], result!.Pixels.Select(p => (p.Index, p.Ix, p.Iy)));

            var bad = await client.RequestRawAsync(ScanTopics.PixelsCommandTopic(Instrument), Encoding.UTF8.GetBytes("{\"scanId\":\"../etc\"}"),
                TimeSpan.FromSeconds(30));
            Assert.Equal(ErrorCodes.InvalidArgument, bad.Error!.Code);
            Assert.Contains("cmd/pixels", bad.Error.Message, StringComparison.Ordinal);
            Assert.Contains("scanId '../etc'", bad.Error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
