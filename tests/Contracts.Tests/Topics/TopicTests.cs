using Seccm.Contracts.Topics;

namespace Seccm.Contracts.Tests.Topics;

public sealed class TopicTests
{
    [Fact]
    public void Topics_follow_the_tree_of_the_design()
    {
        Assert.Equal("seccm/sim1/stage/status", Topic.Status("sim1", ServiceNames.Stage));
        Assert.Equal("seccm/sim1/stage/telemetry/position", Topic.Telemetry("sim1", "stage", "position"));
        Assert.Equal("seccm/sim1/potentiostat/event/contact", Topic.Event("sim1", "potentiostat", "contact"));
        Assert.Equal("seccm/sim1/scan/cmd/start", Topic.Command("sim1", "scan", "start"));
        Assert.Equal("seccm/sim1/scan/cmd/+", Topic.CommandFilter("sim1", "scan"));
        Assert.Equal("seccm/sim1/potentiostat/data/s-1/cv", Topic.Data("sim1", "s-1", "cv"));
        Assert.Equal("seccm/sim1/diffusion/result/s-1/pixel", Topic.Result("sim1", "s-1", "pixel"));
        Assert.Equal("$share/diffusion/seccm/sim1/scan/event/pixel", Topic.Shared("diffusion", Topic.Event("sim1", "scan", "pixel")));
        Assert.Equal("seccm/+/+/status", Topic.StatusFilter("+"));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("+")]
    [InlineData("#")]
    [InlineData("")]
    [InlineData("with space")]
    [InlineData("x\0")]
    public void Segments_that_would_break_the_tree_are_refused(string segment)
    {
        Assert.False(Topic.IsValidSegment(segment));
        var ex = Assert.Throws<ArgumentException>(() => Topic.Status(segment, "stage"));
        Assert.Contains("instrument", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_splits_our_topics_and_rejects_others()
    {
        var parsed = Topic.Parse("seccm/lab2/glovebox/event/alarm");
        Assert.NotNull(parsed);
        Assert.Equal(("lab2", "glovebox", TopicKind.Event), (parsed!.Instrument, parsed.Service, parsed.Kind));
        Assert.Equal(["alarm"], parsed.Rest);
        Assert.Null(Topic.Parse("other/lab2/glovebox/event/alarm"));
        Assert.Null(Topic.Parse("seccm/lab2/glovebox/nonsense"));
        Assert.Null(Topic.Parse("seccm/lab2"));
    }
}
