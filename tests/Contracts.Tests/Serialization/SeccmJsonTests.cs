using System.Text;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;

namespace Seccm.Contracts.Tests.Serialization;

public sealed class SeccmJsonTests
{
    [Fact]
    public void Payloads_are_camel_case_with_units_in_names_and_a_schema_version()
    {
        var json = SeccmJson.SerializeToString(new ScanProgress("s1", "r", ScanState.Running, 3, 10, 0, 12.5, null,
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch));
        Assert.Contains("\"schema\":1", json, StringComparison.Ordinal);
        Assert.Contains("\"pixelsDone\":3", json, StringComparison.Ordinal);
        Assert.Contains("\"etaS\":12.5", json, StringComparison.Ordinal);
        Assert.Contains("\"state\":\"Running\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Round_trip_keeps_every_field()
    {
        var reply = new CommandReply(false, null, new CommandError(ErrorCodes.InvalidArgument, "xUm must be finite"));
        var back = SeccmJson.Deserialize<CommandReply>(SeccmJson.Serialize(reply), "test");
        Assert.Equal(reply.Error, back.Error);
        Assert.False(back.Ok);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("null", "JSON null")]
    [InlineData("{\"code\":\"x\"}", "message")]
    [InlineData("{\"code\":\"x\",\"message\":null}", "message")]
    [InlineData("{\"code\":", "CommandError")]
    [InlineData("[1,2]", "CommandError")]
    public void Bad_payloads_raise_a_payload_exception_naming_where_and_what(string json, string expected)
    {
        var ex = Assert.Throws<PayloadException>(() => SeccmJson.Deserialize<CommandError>(Encoding.UTF8.GetBytes(json), "seccm/x/stage/cmd/move"));
        Assert.Contains("seccm/x/stage/cmd/move", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_payload_record_is_registered_in_the_json_context()
    {
        var payloads = typeof(Payload).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Payload)) && !t.IsAbstract && t.IsPublic)
            .ToList();
        Assert.NotEmpty(payloads);
        var missing = payloads.Where(t => SeccmJsonContext.Default.GetTypeInfo(t) is null).Select(t => t.FullName).ToList();
        Assert.True(missing.Count == 0, "not in SeccmJsonContext: " + string.Join(", ", missing));
    }
}
