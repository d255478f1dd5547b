using Seccm.Devices;
using Seccm.Glovebox.Sensors;

namespace Seccm.Glovebox.Pump;

/// <summary>Settings of the circulation-pump logic.</summary>
public sealed record PumpControlOptions
{
    /// <summary>Longest time the pump may stay off before it is switched back on, scan or not.</summary>
    public TimeSpan MaxOffTime { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How soon a failed attempt to switch the pump back on is repeated.</summary>
    public TimeSpan RetryOnInterval { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>The pump's state as the service knows it (read back from the device).</summary>
public sealed record PumpState(bool On, string Reason, DateTimeOffset Since);

/// <summary>
/// Owns the circulation pump. It goes off only on request (a scan wants no vibration) and comes back on at the
/// first of: scan end, scan abort, scan service offline, an alarm, or <see cref="PumpControlOptions.MaxOffTime"/>.
/// A failed switch-on is retried until it succeeds, because a glovebox without circulation slowly degrades.
/// </summary>
public sealed class PumpController : IAsyncDisposable
{
    private readonly IPump _pump;
    private readonly PumpControlOptions _options;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ITimer? _timer;
    private bool _disposed;

    public PumpController(IPump pump, PumpControlOptions options, TimeProvider time)
    {
        if (options.MaxOffTime <= TimeSpan.Zero || options.RetryOnInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("Pump MaxOffTime and RetryOnInterval must be positive.", nameof(options));
        }
        _pump = pump;
        _options = options;
        _time = time;
        State = new PumpState(true, "not read yet", time.GetUtcNow());
    }

    public PumpState State { get; private set; }

    /// <summary>When the pump will be switched back on by itself (max off time or a pending retry); null while it runs.</summary>
    public DateTimeOffset? AutoOnAt { get; private set; }

    /// <summary>The last error from the device while switching the pump on automatically, cleared on success.</summary>
    public string? LastError { get; private set; }

    /// <summary>Raised after each confirmed change of state.</summary>
    public event Action<PumpState>? Changed;

    /// <summary>Reads the real state at start and switches the pump on if it was left off (e.g. by a crashed scan).</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var on = await _pump.ReadAsync(cancellationToken).ConfigureAwait(false);
        State = new PumpState(on, "read at start", _time.GetUtcNow());
        if (!on)
        {
            await TurnOnAsync("was off at service start", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the pump (for a scan). The max-off timer starts now.</summary>
    public async Task TurnOffAsync(string reason, CancellationToken cancellationToken)
    {
        await SwitchAsync(false, reason, cancellationToken).ConfigureAwait(false);
    }

    public Task TurnOnAsync(string reason, CancellationToken cancellationToken) => SwitchAsync(true, reason, cancellationToken);

    public Task OnScanEndedAsync(CancellationToken cancellationToken) => TurnOnAsync("scan ended", cancellationToken);

    public Task OnScanAbortedAsync(CancellationToken cancellationToken) => TurnOnAsync("scan aborted", cancellationToken);

    public Task OnScanServiceOfflineAsync(CancellationToken cancellationToken) => TurnOnAsync("scan service offline", cancellationToken);

    public Task OnAlarmAsync(string quantity, CancellationToken cancellationToken) => TurnOnAsync($"{quantity} alarm", cancellationToken);

    private async Task SwitchAsync(bool on, string reason, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new ArgumentException("Switching the pump needs a reason.", nameof(reason));
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (State.On == on)
            {
                // Already there: keep the original reason and, when off, the original max-off deadline.
                return;
            }
            try
            {
                await _pump.SetAsync(on, cancellationToken).ConfigureAwait(false);
            }
            catch (DeviceException ex) when (on)
            {
                LastError = $"Could not switch pump '{_pump.Name}' on ({reason}): {ex.Message}";
                Arm(_options.RetryOnInterval, reason);
                throw;
            }
            LastError = null;
            State = new PumpState(on, reason, _time.GetUtcNow());
            if (on)
            {
                Disarm();
            }
            else
            {
                Arm(_options.MaxOffTime, $"off longer than the maximum {_options.MaxOffTime.TotalMinutes:0.#} min");
            }
        }
        finally
        {
            _gate.Release();
        }
        Changed?.Invoke(State);
    }

    private void Arm(TimeSpan dueTime, string reason)
    {
        _timer?.Dispose();
        AutoOnAt = _time.GetUtcNow() + dueTime;
        _timer = _time.CreateTimer(_ => _ = OnTimerAsync(reason), null, dueTime, Timeout.InfiniteTimeSpan);
    }

    private void Disarm()
    {
        _timer?.Dispose();
        _timer = null;
        AutoOnAt = null;
    }

    private async Task OnTimerAsync(string reason)
    {
        try
        {
            await TurnOnAsync(reason, CancellationToken.None).ConfigureAwait(false);
        }
        catch (DeviceException)
        {
            // LastError is set and the retry timer armed inside SwitchAsync.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            Disarm();
        }
        finally
        {
            _gate.Release();
        }
    }
}
