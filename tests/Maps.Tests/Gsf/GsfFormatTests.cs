using System.Text;
using Seccm.Maps.Gsf;

namespace Seccm.Maps.Tests.Gsf;

public sealed class GsfFormatTests
{
    private static MapGrid Sample()
    {
        var values = new double[3 * 2];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = 2.47e-15 * (i + 1);
        }
        values[4] = double.NaN;
        return new MapGrid("D", "m^2/s", 3, 2, 0.5, values, xOriginUm: 10, yOriginUm: -2.5);
    }

    [Fact]
    public void Header_is_the_documented_layout()
    {
        var bytes = GsfFormat.ToBytes(Sample());
        var nul = Array.IndexOf(bytes, (byte)0);
        var header = Encoding.UTF8.GetString(bytes, 0, nul);
        Assert.Equal(
            "Gwyddion Simple Field 1.0\nXRes = 3\nYRes = 2\nXReal = 1.5E-06\nYReal = 1E-06\nXOffset = 1E-05\n" +
            "YOffset = -2.5E-06\nXYUnits = m\nZUnits = m^2/s\nTitle = D\n", header);
        var dataStart = bytes.Length - (6 * 4);
        Assert.Equal(0, dataStart % 4);
        Assert.InRange(dataStart - nul, 1, 4);
        Assert.All(bytes[nul..dataStart], b => Assert.Equal(0, b));
        // Little-endian float32, row-major.
        Assert.Equal((float)2.47e-15, BitConverter.ToSingle(bytes, dataStart));
        Assert.Equal((float)(2.47e-15 * 6), BitConverter.ToSingle(bytes, dataStart + 20));
    }

    [Fact]
    public void Round_trips_through_a_file()
    {
        using var dir = new TempDir();
        var path = dir.File("d.gsf");
        var map = Sample();
        GsfFormat.Write(path, map, metadata: new Dictionary<string, string> { ["ScanId"] = "scan-7" });
        var back = GsfFormat.Read(path);
        Assert.Equal((3, 2), (back.Map.Nx, back.Map.Ny));
        Assert.Equal(map.PitchXUm, back.Map.PitchXUm, 12);
        Assert.Equal(10, back.Map.XOriginUm, 9);
        Assert.Equal(-2.5, back.Map.YOriginUm, 9);
        Assert.Equal("m^2/s", back.Map.Unit);
        Assert.Equal("D", back.Map.Name);
        Assert.Equal("scan-7", back.Header["ScanId"]);
        for (var i = 0; i < map.Values.Length; i++)
        {
            if (double.IsNaN(map.Values[i]))
            {
                Assert.True(double.IsNaN(back.Map.Values[i]));
            }
            else
            {
                Assert.Equal(map.Values[i], back.Map.Values[i], map.Values[i] * 1e-7);
            }
        }
    }

    [Fact]
    public void Padding_is_one_to_four_nuls_for_every_header_length()
    {
        for (var titleLength = 1; titleLength <= 8; titleLength++)
        {
            var map = new MapGrid(new string('t', titleLength), "A", 1, 1, 1, [1.0]);
            var bytes = GsfFormat.ToBytes(map);
            var nul = Array.IndexOf(bytes, (byte)0);
            Assert.InRange(bytes.Length - 4 - nul, 1, 4);
            Assert.Equal(0, (bytes.Length - 4) % 4);
            Assert.Equal(1.0, GsfFormat.Parse(bytes, "t.gsf").Map.Values[0]);
        }
    }

    [Fact]
    public void Unit_conversion_on_write()
    {
        var map = new MapGrid("D", "cm^2/s", 1, 1, 1, [2.47e-11]);
        var back = GsfFormat.Parse(GsfFormat.ToBytes(map, zFactor: 1e-4, zUnits: "m^2/s"), "d.gsf");
        Assert.Equal("m^2/s", back.Map.Unit);
        Assert.Equal(2.47e-15, back.Map.Values[0], 1e-21);
    }

    [Fact]
    public void Bad_metadata_is_refused()
    {
        Assert.Throws<ArgumentException>(() => GsfFormat.ToBytes(Sample(), metadata: new Dictionary<string, string> { ["bad key"] = "x" }));
        Assert.Throws<ArgumentException>(() => GsfFormat.ToBytes(Sample(), metadata: new Dictionary<string, string> { ["Note"] = "a\nb" }));
        Assert.Throws<ArgumentException>(() => GsfFormat.ToBytes(Sample(), metadata: new Dictionary<string, string> { ["XRes"] = "9" }));
    }

    [Theory]
    [InlineData("Gwyddion Simple Field 2.0\nXRes = 1\nYRes = 1\n", "x.gsf line 1: the first line is 'Gwyddion Simple Field 2.0', expected 'Gwyddion Simple Field 1.0'")]
    [InlineData("Gwyddion Simple Field 1.0\nYRes = 1\n", "x.gsf, field XRes: is missing from the header")]
    [InlineData("Gwyddion Simple Field 1.0\nXRes = 1\nYRes = -1\n", "x.gsf line 3, field YRes: '-1' is not a positive integer")]
    [InlineData("Gwyddion Simple Field 1.0\nXRes = 1\nYRes = 1\nXReal = abc\n", "x.gsf line 4, field XReal: 'abc' is not a positive finite number")]
    [InlineData("Gwyddion Simple Field 1.0\nXRes = 1\nnonsense\n", "x.gsf line 3: 'nonsense' is not a 'Key = Value' line")]
    [InlineData("Gwyddion Simple Field 1.0\nXRes = 2\nYRes = 1\n", "x.gsf: 4 data bytes after the header, expected 8 for 2 x 1 float32 values")]
    public void Bad_files_are_reported_with_line_and_field(string header, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(header).ToList();
        do
        {
            bytes.Add(0);
        }
        while (bytes.Count % 4 != 0);
        bytes.AddRange(new byte[4]);
        var ex = Assert.Throws<DataFileException>(() => GsfFormat.Parse(bytes.ToArray(), "x.gsf"));
        Assert.Equal(expected, ex.Message);
    }
}
