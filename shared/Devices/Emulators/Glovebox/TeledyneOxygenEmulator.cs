using System.Globalization;
using Seccm.Devices.Serial;

namespace Seccm.Devices.Emulators.Glovebox;

/// <summary>
/// A streaming trace-O2 analyser (Teledyne style): sends <c>ST, 0.85 PPM, 0\r\n</c> every
/// <see cref="Interval"/> without being asked.
/// </summary>
public sealed class TeledyneOxygenEmulator(ISerialLine line, TimeProvider? time = null) : DeviceEmulator(line, time)
{
    private double _o2Ppm = 1.0;

    public double O2Ppm
    {
        get => Volatile.Read(ref _o2Ppm);
        set => Volatile.Write(ref _o2Ppm, value);
    }

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(Interval, Time, cancellationToken).ConfigureAwait(false);
            CountRequest();
            if (Faults.Silent)
            {
                continue;
            }
            var line = Faults.TakeGarbled()
                ? "ST, -?x.. PP\r\n"
                : string.Create(CultureInfo.InvariantCulture, $"ST, {O2Ppm:0.00} PPM, 0\r\n");
            await WriteAsciiAsync(line, cancellationToken).ConfigureAwait(false);
        }
    }
}
