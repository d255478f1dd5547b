using System.Diagnostics;

namespace Seccm.Host.Bench;

/// <summary>
/// Peak memory during one phase of a benchmark. Process.PeakWorkingSet64 only ever grows over the whole process, so
/// each phase polls the working set and the managed heap itself (every 5 ms) and keeps the maxima.
/// </summary>
internal sealed class MemorySampler : IDisposable
{
    private readonly ITimer _timer;
    private readonly Process _process = Process.GetCurrentProcess();
    private readonly long _allocatedAtStart;
    private long _peakWorkingSet;
    private long _peakManaged;

    private MemorySampler(TimeProvider time)
    {
        _allocatedAtStart = GC.GetTotalAllocatedBytes(precise: false);
        Sample();
        _timer = time.CreateTimer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(5));
    }

    /// <summary>Collects (compacting, returning memory to the OS) so a phase does not inherit the previous one's garbage.</summary>
    public static MemorySampler Start(TimeProvider time)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return new MemorySampler(time);
    }

    public long PeakWorkingSetBytes => Interlocked.Read(ref _peakWorkingSet);

    public long PeakManagedBytes => Interlocked.Read(ref _peakManaged);

    public long AllocatedBytes => GC.GetTotalAllocatedBytes(precise: false) - _allocatedAtStart;

    private void Sample()
    {
        long workingSet;
        lock (_process)
        {
            _process.Refresh();
            workingSet = _process.WorkingSet64;
        }
        Max(ref _peakWorkingSet, workingSet);
        Max(ref _peakManaged, GC.GetTotalMemory(forceFullCollection: false));
    }

    private static void Max(ref long target, long value)
    {
        long seen;
        while (value > (seen = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    /// <summary>Takes a last sample so a short phase still has a reading from its end.</summary>
    public void Stop()
    {
        _timer.Dispose();
        Sample();
    }

    public void Dispose()
    {
        _timer.Dispose();
        _process.Dispose();
    }
}
