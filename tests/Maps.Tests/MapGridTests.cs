namespace Seccm.Maps.Tests;

public sealed class MapGridTests
{
    [Fact]
    public void Indexes_row_major_with_pixel_centres_from_the_corner()
    {
        var map = new MapGrid("D", "m^2/s", 3, 2, 0.5, [0, 1, 2, 10, 11, 12], xOriginUm: 1, yOriginUm: 2);
        Assert.Equal(12, map[2, 1]);
        Assert.Equal((2.25, 2.75), map.PixelCentreUm(2, 1));
        Assert.Equal(1.5, map.XRealUm);
        Assert.Equal(1.0, map.YRealUm);
    }

    [Fact]
    public void No_data_map_is_all_nan()
    {
        var map = MapGrid.NoData("i", "A", 4, 3, 1);
        Assert.Equal(12, map.Values.Length);
        Assert.All(map.Values, v => Assert.True(double.IsNaN(v)));
    }

    [Fact]
    public void Scaled_changes_unit_and_values_only()
    {
        var map = new MapGrid("D", "m^2/s", 1, 2, 0.1, [2.47e-15, double.NaN]);
        var cm = map.Scaled(1e4, "cm^2/s");
        Assert.Equal("cm^2/s", cm.Unit);
        Assert.Equal(2.47e-11, cm.Values[0], 1e-24);
        Assert.True(double.IsNaN(cm.Values[1]));
        Assert.Equal(2.47e-15, map.Values[0]);
    }

    [Fact]
    public void Inconsistent_shapes_are_refused_with_the_map_name()
    {
        Assert.Contains("'D'", Assert.Throws<ArgumentException>(() => new MapGrid("D", "A", 2, 2, 1, [1.0])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MapGrid("D", "A", 0, 2, 1, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MapGrid("D", "A", 1, 1, 0, [1.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MapGrid("D", "A", 1, 1, double.NaN, [1.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MapGrid("D", "A", 1, 1, 1, [1.0], double.PositiveInfinity));
    }
}
