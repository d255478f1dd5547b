using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Seccm.Contracts.Glovebox;
using Seccm.Contracts.Messages;
using Seccm.Contracts.Serialization;
using Seccm.Contracts.Topics;
using Seccm.Messaging.Bus;
using Seccm.Scan.Orchestration;
using Seccm.Contracts.Scan;

namespace Seccm.Scan.Interlocks;

/// <summary>
/// Watches the retained status of every service of the instrument. Safe to scan means: every other service
/// online and none reporting a device fault (<c>deviceFault</c> in its status details, e.g. a stage controller that
/// stopped answering), and the glovebox says <c>safeToScan</c> (<see cref="GloveboxStatusDetails"/>) with O2 and H2O
/// (its <see cref="GloveboxTelemetry"/>) within the recipe's limits. Every message is checked by its contract; a malformed
/// or out-of-range one is logged and changes nothing (an unreadable status counts as unknown: the service is held offline).
/// </summary>
internal sealed partial class InterlockMonitor(StatusRecorder? recorder = null, ILogger? logger = null) : IInterlocks
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    private static readonly string[] Required = [ServiceNames.Stage, ServiceNames.Potentiostat, ServiceNames.Glovebox, ServiceNames.Diffusion];
    private readonly ConcurrentDictionary<string, ServiceStatus> _statuses = new();

    private double? _o2Ppm;
    private double? _h2oPpm;

    public async Task StartAsync(IMessageBus bus)
    {
        await bus.SubscribeAsync(GloveboxTopics.AtmosphereTopic(bus.Instrument), (message, _) =>
        {
            if (message.TryRead<GloveboxTelemetry>(_logger, "the last atmosphere reading stands", out var atmosphere))
            {
                _o2Ppm = atmosphere.O2Ppm;
                _h2oPpm = atmosphere.H2oPpm;
            }
            return Task.CompletedTask;
        }, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce).ConfigureAwait(false);
        await bus.SubscribeAsync(Topic.StatusFilter(bus.Instrument), (message, ct) =>
        {
            var parsed = Topic.Parse(message.Topic);
            if (parsed is null)
            {
                return Task.CompletedTask;
            }
            if (message.TryRead<ServiceStatus>(_logger, "the service counts as offline", out var status))
            {
                Observe(parsed.Service, status);
            }
            else
            {
                // An unreadable status counts as unknown: the service is treated as offline.
                _statuses.TryRemove(parsed.Service, out ServiceStatus? _);
            }
            return Task.CompletedTask;
        }).ConfigureAwait(false);
    }

    /// <summary>Takes a service's retained status (from the broker; tests feed it directly).</summary>
    internal void Observe(string service, ServiceStatus status)
    {
        _statuses[service] = status;
        recorder?.Record(status);
    }

    /// <summary>For tests and the status command: the last status of each service.</summary>
    public IReadOnlyDictionary<string, ServiceStatus> Statuses => _statuses;

    public InterlockVerdict Check(GloveboxLimits limits)
    {
        var offline = Required.Where(s => !_statuses.TryGetValue(s, out var st) || !st.IsOnline).ToList();
        if (offline.Count > 0)
        {
            return new InterlockVerdict(false, $"{string.Join(", ", offline)} offline");
        }
        foreach (var service in Required)
        {
            if (DeviceFault(service, _statuses[service]) is { } what)
            {
                return new InterlockVerdict(false, $"{service} device fault ({what})");
            }
        }
        var glovebox = _statuses[ServiceNames.Glovebox];
        if (glovebox.Details is not { ValueKind: JsonValueKind.Object } details)
        {
            return new InterlockVerdict(false, "the glovebox has not reported its atmosphere yet");
        }
        GloveboxStatusDetails box;
        try
        {
            box = SeccmJson.DeserializeValid<GloveboxStatusDetails>(details, "glovebox status details");
        }
        catch (PayloadException ex)
        {
            return new InterlockVerdict(false, ex.Message);
        }
        if (box.UnsafeReason is { } why)
        {
            return new InterlockVerdict(false, $"glovebox not safe to scan ({why})");
        }
        if (_o2Ppm is { } o2 && o2 > limits.MaxO2Ppm)
        {
            return new InterlockVerdict(false, string.Create(CultureInfo.InvariantCulture, $"O2 {o2:0.##} ppm above the recipe's {limits.MaxO2Ppm} ppm"));
        }
        if (_h2oPpm is { } h2o && h2o > limits.MaxH2oPpm)
        {
            return new InterlockVerdict(false, string.Create(CultureInfo.InvariantCulture, $"H2O {h2o:0.##} ppm above the recipe's {limits.MaxH2oPpm} ppm"));
        }
        return InterlockVerdict.Ok;
    }

    /// <summary>The device fault a status reports (<see cref="DeviceStatusDetails"/>); details that do not read as such count as one.</summary>
    private static string? DeviceFault(string service, ServiceStatus status)
    {
        if (status.Details is not { ValueKind: JsonValueKind.Object } details)
        {
            return null;
        }
        try
        {
            var device = SeccmJson.DeserializeValid<DeviceStatusDetails>(details, $"{service} status details");
            return device.DeviceFault ? device.Fault : null;
        }
        catch (PayloadException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>For tests: the glovebox's readings as its telemetry gives them.</summary>
    internal void ObserveAtmosphere(GloveboxTelemetry atmosphere)
    {
        _o2Ppm = atmosphere.O2Ppm;
        _h2oPpm = atmosphere.H2oPpm;
    }
}
