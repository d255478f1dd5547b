using System.Text.Json;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Scan;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Scan.Interlocks;

namespace Seccm.Scan.Tests.Interlocks;

public class InterlockMonitorTests
{
    private static readonly GloveboxLimits Limits = new();

    private static ServiceStatus Status(string service, string details, string state = ServiceStatus.Online) =>
        new(service, "i1", state, "1.0.0", DateTimeOffset.UnixEpoch, Details: JsonDocument.Parse(details).RootElement.Clone());

    private static InterlockMonitor AllWell()
    {
        var monitor = new InterlockMonitor();
        monitor.Observe(ServiceNames.Stage, Status(ServiceNames.Stage, """{"deviceFault": false}"""));
        monitor.Observe(ServiceNames.Potentiostat, Status(ServiceNames.Potentiostat, "{}"));
        monitor.Observe(ServiceNames.Diffusion, Status(ServiceNames.Diffusion, "{}"));
        monitor.Observe(ServiceNames.Glovebox, Status(ServiceNames.Glovebox, """{"safeToScan": true, "o2Ppm": 0.5, "h2oPpm": 0.4}"""));
        return monitor;
    }

    [Fact]
    public void Every_service_online_without_a_fault_and_a_safe_glovebox_is_safe()
    {
        Assert.True(AllWell().Check(Limits).Safe);
    }

    [Fact]
    public void A_stage_controller_that_stopped_answering_holds_the_scan_and_says_why()
    {
        var monitor = AllWell();
        monitor.Observe(ServiceNames.Stage, Status(ServiceNames.Stage, """{"deviceFault": true, "fault": "no answer to POS? within 1000 ms"}"""));
        var verdict = monitor.Check(Limits);
        Assert.False(verdict.Safe);
        Assert.Contains("stage device fault", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("POS?", verdict.Reason, StringComparison.Ordinal);

        monitor.Observe(ServiceNames.Stage, Status(ServiceNames.Stage, """{"deviceFault": false}"""));
        Assert.True(monitor.Check(Limits).Safe);
    }

    [Fact]
    public void The_device_status_as_the_stage_writes_it_holds_the_scan_and_unreadable_details_are_named()
    {
        var monitor = AllWell();
        monitor.Observe(ServiceNames.Stage, new ServiceStatus(ServiceNames.Stage, "i1", ServiceStatus.Online, "1.0.0", DateTimeOffset.UnixEpoch,
            Details: SeccmJson.ToElement(new DeviceStatusDetails(true, "no answer to ONT? within 1000 ms"))));
        Assert.Contains("stage device fault (no answer to ONT? within 1000 ms)", monitor.Check(Limits).Reason, StringComparison.Ordinal);

        monitor.Observe(ServiceNames.Stage, Status(ServiceNames.Stage, """{"deviceFault": "yes"}"""));
        var unreadable = monitor.Check(Limits);
        Assert.False(unreadable.Safe);
        Assert.Contains("stage status details", unreadable.Reason, StringComparison.Ordinal);

        monitor.Observe(ServiceNames.Stage, Status(ServiceNames.Stage, """{"deviceFault": true}"""));
        Assert.Contains("must say what is wrong", monitor.Check(Limits).Reason, StringComparison.Ordinal);

        monitor.Observe(ServiceNames.Stage, new ServiceStatus(ServiceNames.Stage, "i1", ServiceStatus.Online, "1.0.0", DateTimeOffset.UnixEpoch,
            Details: SeccmJson.ToElement(new DeviceStatusDetails())));
        Assert.True(monitor.Check(Limits).Safe);
    }

    [Fact]
    public void An_offline_service_holds_the_scan()
    {
        var monitor = AllWell();
        monitor.Observe(ServiceNames.Potentiostat, Status(ServiceNames.Potentiostat, "{}", ServiceStatus.Offline));
        var verdict = monitor.Check(Limits);
        Assert.False(verdict.Safe);
        Assert.Contains("potentiostat offline", verdict.Reason, StringComparison.Ordinal);
    }
}
