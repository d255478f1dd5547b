namespace Seccm.Storage.Tests.Schema;

public sealed class PointsTests
{
    [Fact]
    public void New_adds_the_standard_tags_and_a_nanosecond_timestamp()
    {
        var t = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(1);
        var line = Points.New(Measurements.PixelResult, "seccm 01", "diffusion", t, scanId: "s-9", technique: "cv")
            .Field("x_um", 12.5).Field("d_cm2_s", 1.2e-10).ToLineProtocol();

        Assert.Equal("pixel_result,instrument=seccm\\ 01,scan_id=s-9,service=diffusion,technique=cv d_cm2_s=1.2E-10,x_um=12.5 1767225600000000100", line);
    }

    [Fact]
    public void Optional_tags_are_left_out_when_absent()
    {
        var line = Points.New(Measurements.Glovebox, "i", "glovebox", DateTimeOffset.UnixEpoch).Field("o2_ppm", 0.1).ToLineProtocol();
        Assert.Equal("glovebox,instrument=i,service=glovebox o2_ppm=0.1 0", line);
    }

    [Fact]
    public void A_missing_instrument_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Points.New(Measurements.Stage, " ", "stage", DateTimeOffset.UnixEpoch));
    }
}
