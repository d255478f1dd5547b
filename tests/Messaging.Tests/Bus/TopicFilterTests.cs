using Seccm.Messaging.Bus;

namespace Seccm.Messaging.Tests.Bus;

public sealed class TopicFilterTests
{
    [Theory]
    [InlineData("seccm/t1/potentiostat/event/contact", "seccm/t1/potentiostat/event/contact", true)]
    [InlineData("seccm/t1/potentiostat/event/+", "seccm/t1/potentiostat/event/contact", true)]
    [InlineData("seccm/t1/+/event/contact", "seccm/t1/potentiostat/event/contact", true)]
    [InlineData("seccm/t1/#", "seccm/t1/potentiostat/event/contact", true)]
    [InlineData("seccm/t1/potentiostat/event/+", "seccm/t1/potentiostat/event/contact/extra", false)]
    [InlineData("seccm/t1/potentiostat/event/contact", "seccm/t1/potentiostat/event", false)]
    [InlineData("seccm/t1/potentiostat/event/contact", "seccm/t2/potentiostat/event/contact", false)]
    [InlineData("$share/diffusion/seccm/t1/potentiostat/data/#", "seccm/t1/potentiostat/data/s1/chunk", true)]
    public void Matches_like_an_MQTT_broker(string filter, string topic, bool expected) =>
        Assert.Equal(expected, TopicFilter.Matches(filter, topic));
}
