using System.Text.Json;
using Seccm.Contracts.Glovebox;
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
        // The glovebox's status as it writes it (GloveboxStatusDetails); its readings come in its telemetry.
        monitor.Observe(ServiceNames.Glovebox, new ServiceStatus(ServiceNames.Glovebox, "i1", ServiceStatus.Online, "1.0.0", DateTimeOffset.UnixEpoch,
            Details: SeccmJson.ToElement(SafeBox)));
        monitor.ObserveAtmosphere(Atmosphere(0.5, 0.4));
        return monitor;
    }

    private static readonly GloveboxStatusDetails SafeBox = new(true, GloveboxAlarmLevels.Ok, GloveboxAlarmLevels.Ok, true, "scan s1", null);

    private static GloveboxTelemetry Atmosphere(double o2, double h2o) =>
        new(DateTimeOffset.UnixEpoch, o2, h2o, null, null, true, "scan s1", GloveboxAlarmLevels.Ok, GloveboxAlarmLevels.Ok, true, []);

    private static ServiceStatus Glovebox(string details) => Status(ServiceNames.Glovebox, details);

    [Fact]
    public void The_glovebox_status_as_the_glovebox_writes_it_holds_the_scan_when_unsafe_and_bad_details_are_named()
    {
        var monitor = AllWell();
        monitor.Observe(ServiceNames.Glovebox, new ServiceStatus(ServiceNames.Glovebox, "i1", ServiceStatus.Online, "1.0.0", DateTimeOffset.UnixEpoch,
            Details: SeccmJson.ToElement(SafeBox with { SafeToScan = false, O2Alarm = GloveboxAlarmLevels.Alarm })));
        var unsafeBox = monitor.Check(Limits);
        Assert.False(unsafeBox.Safe);
        Assert.Contains("glovebox not safe to scan (O2 alarm, H2O ok)", unsafeBox.Reason, StringComparison.Ordinal);

        // Details the glovebox never writes (an alarm level it does not know, a missing field) hold the scan and are named.
        monitor.Observe(ServiceNames.Glovebox, Glovebox(
            """{"safeToScan": true, "o2Alarm": "red", "h2oAlarm": "ok", "pumpOn": true, "pumpReason": "", "scenario": null}"""));
        var bad = monitor.Check(Limits);
        Assert.False(bad.Safe);
        Assert.Contains("glovebox status details", bad.Reason, StringComparison.Ordinal);
        Assert.Contains("o2Alarm 'red'", bad.Reason, StringComparison.Ordinal);
        monitor.Observe(ServiceNames.Glovebox, Glovebox("""{"safeToScan": true, "o2Ppm": 0.5}"""));
        Assert.False(monitor.Check(Limits).Safe);

        monitor.Observe(ServiceNames.Glovebox, new ServiceStatus(ServiceNames.Glovebox, "i1", ServiceStatus.Online, "1.0.0", DateTimeOffset.UnixEpoch,
            Details: SeccmJson.ToElement(SafeBox)));
        Assert.True(monitor.Check(Limits).Safe);
        monitor.ObserveAtmosphere(Atmosphere(Limits.MaxO2Ppm + 1, 0.4));
        Assert.Contains("O2", monitor.Check(Limits).Reason, StringComparison.Ordinal);
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
