using Seccm.Contracts.Scan;
using Seccm.Scan.Recipes;

namespace Seccm.Scan.Tests.Recipes;

public sealed class RecipeLoaderTests
{
    [Theory]
    [InlineData("lto-d-map", 64 * 64)]
    [InlineData("lto-current-map", 128 * 128)]
    [InlineData("lfp-map", 30 * 30)]
    [InlineData("lto-demo", 32 * 32)]
    [InlineData("lto-rate-series", 3)]
    [InlineData("lco-rate-series", 3)]
    [InlineData("lfp-rate-series", 2)]
    public void Every_built_in_recipe_loads_and_validates(string name, int pixels)
    {
        var recipe = RecipeLoader.LoadBuiltIn(name);
        Assert.Equal(name, recipe.Name);
        Assert.Empty(RecipeValidator.Validate(recipe));
        Assert.Equal(pixels, Seccm.Scan.Raster.RasterPlan.Build(recipe).Pixels.Count);
    }

    [Fact]
    public void The_published_d_map_is_64_by_64_over_5_um_at_the_papers_rates()
    {
        var recipe = RecipeLoader.LoadBuiltIn("lto-d-map");
        Assert.Equal(64, recipe.Grid!.Nx);
        Assert.Equal(5.0, recipe.Grid.Nx * recipe.Grid.PitchUm, 6);
        Assert.Equal(new[] { 1.25, 2.5, 5, 10, 20 }, recipe.Technique!.Cv!.ScanRatesVPerS);
    }

    [Fact]
    public void Json_recipes_are_read_too()
    {
        var recipe = RecipeLoader.Parse("""
            {"name":"j","grid":{"nx":2,"ny":3,"pitchUm":1},
             "technique":{"kind":"hold","hold":{"potentialV":1.3,"durationS":0.1}}}
            """, "j.json");
        Assert.Equal(TechniqueKind.Hold, recipe.Technique!.Kind);
        Assert.Equal(6, Seccm.Scan.Raster.RasterPlan.Build(recipe).Pixels.Count);
    }

    [Theory]
    [InlineData("name: a\ngrid: { nx: 0, ny: 2, pitchUm: 1 }\ntechnique: { kind: hold, hold: { potentialV: 1, durationS: 1 } }", "grid.nx")]
    [InlineData("name: a\ngrid: { nx: 2, ny: 2, pitchUm: -1 }\ntechnique: { kind: hold, hold: { potentialV: 1, durationS: 1 } }", "grid.pitchUm")]
    [InlineData("name: a\ngrid: { nx: 2, ny: 2, pitchUm: 1 }", "technique")]
    [InlineData("name: a\ngrid: { nx: 2, ny: 2, pitchUm: 1 }\ntechnique: { kind: cv }", "technique.cv")]
    [InlineData("name: a\ngrid: { nx: 2, ny: 2, pitchUm: 1 }\ntechnique: { kind: cv, cv: { startV: 1, vertex1V: 2, vertex2V: 1, scanRatesVPerS: [1, 500] } }", "technique.cv.scanRatesVPerS[1]")]
    [InlineData("name: a\ngrid: { nx: 2, ny: 2, pitchUm: 1 }\ntechnique: { kind: hold, hold: { potentialV: 9, durationS: 1 } }", "technique.hold.potentialV")]
    [InlineData("name: a\ngrid: { nx: 2, ny: 2, pitchUm: 1 }\ntechnique: { kind: chargeDischarge, chargeDischarge: { chargeCurrentA: 0, dischargeCurrentA: -1e-9, upperCutoffV: 2, lowerCutoffV: 1 } }", "chargeCurrentA")]
    [InlineData("name: a\ngrid: { nx: 2, ny: 2, pitchUm: 1 }\ntechnique: { kind: hold, hold: { potentialV: 1, durationS: 1 } }\napproach: { speedUmPerS: 500 }", "approach.speedUmPerS")]
    [InlineData("name: a\ngrid: { nx: 2, ny: 2, pitchUm: 1 }\ntechnique: { kind: teleport }", "kind")]
    [InlineData("name: a\ngrid: { nx: two, ny: 2, pitchUm: 1 }\ntechnique: { kind: hold, hold: { potentialV: 1, durationS: 1 } }", "nx")]
    [InlineData("name: a\n  grid: [", "line")]
    public void Bad_recipes_are_refused_naming_the_file_and_field(string yaml, string field)
    {
        var ex = Assert.Throws<RecipeException>(() => RecipeLoader.Parse(yaml, "bad.yaml"));
        Assert.Contains("bad.yaml", ex.Message, StringComparison.Ordinal);
        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_and_an_unknown_built_in_say_so()
    {
        Assert.Contains("no such recipe file", Assert.Throws<RecipeException>(() => RecipeLoader.LoadFile("/nope/r.yaml")).Message,
            StringComparison.Ordinal);
        var ex = Assert.Throws<RecipeException>(() => RecipeLoader.LoadBuiltIn("nope"));
        Assert.Contains("lto-d-map", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_deeply_nested_document_is_refused_instead_of_exhausting_the_stack()
    {
        var yaml = "name: a\nx: " + new string('[', 5000) + new string(']', 5000);
        var ex = Assert.Throws<RecipeException>(() => RecipeLoader.Parse(yaml, "deep.yaml"));
        Assert.Contains("deep.yaml", ex.Message, StringComparison.Ordinal);
    }
}
