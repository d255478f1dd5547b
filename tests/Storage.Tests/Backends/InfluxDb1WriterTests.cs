using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Writes;
using Seccm.Storage.Backends;

namespace Seccm.Storage.Tests.Backends;

[Collection(InfluxdCollection.Name)]
public sealed class InfluxDb1WriterTests(InfluxdFixture influxd)
{
    [Fact]
    public async Task Creates_the_database_and_stores_points_readable_with_InfluxQL()
    {
        var db = InfluxdFixture.NewDatabase("w1");
        await using var writer = new InfluxDb1Writer(influxd.Server.Url, db, null, null, TimeSpan.FromSeconds(30));
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var lines = Enumerable.Range(0, 10).Select(i =>
            Points.New(Measurements.Stage, "seccm-01", "stage", t0.AddMilliseconds(i), scanId: "scan-7")
                .Field("x_um", 1.5 * i).Field("y_um", -2.0).Field("z_um", 10.25).ToLineProtocol()).ToList();

        var outcome = await writer.WriteAsync(lines, CancellationToken.None);

        Assert.Equal(WriteOutcomeKind.Ok, outcome.Kind);
        var rows = await influxd.Server.RowsAsync(db, "SELECT x_um, y_um, z_um, instrument, service, scan_id FROM stage ORDER BY time");
        Assert.Equal(10, rows.Count);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(Points.ToUnixNanoseconds(t0.AddMilliseconds(i)), rows[i]["time"].GetInt64());
            Assert.Equal(1.5 * i, rows[i]["x_um"].GetDouble());
            Assert.Equal(-2.0, rows[i]["y_um"].GetDouble());
            Assert.Equal("seccm-01", rows[i]["instrument"].GetString());
            Assert.Equal("stage", rows[i]["service"].GetString());
            Assert.Equal("scan-7", rows[i]["scan_id"].GetString());
        }
    }

    [Fact]
    public async Task A_field_type_conflict_is_rejected_not_retried()
    {
        var db = InfluxdFixture.NewDatabase("w1bad");
        await using var writer = new InfluxDb1Writer(influxd.Server.Url, db, null, null, TimeSpan.FromSeconds(30));
        var first = PointData.Measurement("glovebox").Field("o2_ppm", 0.4).Timestamp(1_000L, WritePrecision.Ns).ToLineProtocol();
        var conflicting = PointData.Measurement("glovebox").Field("o2_ppm", "high").Timestamp(2_000L, WritePrecision.Ns).ToLineProtocol();
        Assert.Equal(WriteOutcomeKind.Ok, (await writer.WriteAsync([first], CancellationToken.None)).Kind);

        var outcome = await writer.WriteAsync([conflicting], CancellationToken.None);

        Assert.Equal(WriteOutcomeKind.Reject, outcome.Kind);
        Assert.Contains("400", outcome.Message, StringComparison.Ordinal);
        Assert.Contains("field type conflict", outcome.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_means_retry()
    {
        var port = Seccm.TestSupport.FreePort.Next();
        await using var writer = new InfluxDb1Writer(new Uri($"http://127.0.0.1:{port}"), "x", null, null, TimeSpan.FromSeconds(5));

        var outcome = await writer.WriteAsync(["m f=1 1"], CancellationToken.None);

        Assert.Equal(WriteOutcomeKind.Retry, outcome.Kind);
        Assert.Contains($"127.0.0.1:{port}", outcome.Message, StringComparison.Ordinal);
    }
}
