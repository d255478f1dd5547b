using Seccm.Devices;
using Seccm.Devices.Serial;

namespace Seccm.Glovebox.Sensors;

/// <summary>
/// The circulation pump on one relay of a serial relay board speaking the ASCII protocol in RelayBoardProtocol.md.
/// Every switch is read back, so the service always knows the real state.
/// </summary>
internal sealed class RelayBoardPump(string name, ISerialLine line, int relay, TimeSpan timeout, int retries, TimeProvider time) : IPump
{
    private readonly SerialRetry _retry = new(line, retries, TimeSpan.FromMilliseconds(100), time);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string Name { get; } = name;

    public async ValueTask SetAsync(bool on, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _retry.ExecuteAsync(async ct =>
            {
                var command = $"R{relay} {(on ? "ON" : "OFF")}";
                var answer = await ExchangeAsync(command, ct).ConfigureAwait(false);
                if (answer != "OK")
                {
                    throw new DeviceProtocolException($"Relay board on '{line.Name}' answered '{RapidoxOxygenSensor.Printable(answer)}' to '{command}'; expected 'OK'.");
                }
                if (await QueryAsync(ct).ConfigureAwait(false) != on)
                {
                    throw new DeviceProtocolException($"Relay board on '{line.Name}' acknowledged '{command}' but relay {relay} reads back the other state.");
                }
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await _retry.ExecuteAsync(QueryAsync, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask<bool> QueryAsync(CancellationToken cancellationToken)
    {
        var answer = await ExchangeAsync($"R{relay}?", cancellationToken).ConfigureAwait(false);
        return answer == $"R{relay} ON" ? true
            : answer == $"R{relay} OFF" ? false
            : throw new DeviceProtocolException(
                $"Relay board on '{line.Name}' answered '{RapidoxOxygenSensor.Printable(answer)}' to 'R{relay}?'; expected 'R{relay} ON' or 'R{relay} OFF'.");
    }

    private async ValueTask<string> ExchangeAsync(string command, CancellationToken cancellationToken)
    {
        line.DiscardInput();
        await line.WriteLineAsync(command, "\r", cancellationToken).ConfigureAwait(false);
        var answer = (await line.ReadLineAsync(timeout, cancellationToken).ConfigureAwait(false)).Trim();
        if (answer.StartsWith("ERR", StringComparison.Ordinal))
        {
            // The board understood the line and refused it: a configuration problem, not worth retrying.
            throw new DeviceException($"Relay board on '{line.Name}' refused '{command}': {answer}");
        }
        return answer;
    }

    public ValueTask DisposeAsync()
    {
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }
}
