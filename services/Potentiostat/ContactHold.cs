using Seccm.Contracts.Potentiostat;

namespace Seccm.Potentiostat;

/// <summary>
/// A hold with a contact threshold as the worker follows it: whether it saw contact, and up to which stage position
/// report its samples have looked. Drivers take in every position reported before they compute a sample, and the
/// worker asks for the next sample only after handling the previous one; so the reports known when the worker asks
/// are covered by the sample that comes back. Thread-safe.
/// </summary>
internal sealed class ContactHold
{
    private readonly object _gate = new();
    private readonly List<(long Sequence, TaskCompletionSource<ContactEvent?> Answer)> _waiting = [];
    private readonly CancellationTokenSource _ended = new();
    private long _asked;
    private long _covered = -1;
    private ContactEvent? _contact;

    /// <summary>Cancelled when the hold has ended.</summary>
    public CancellationToken Ended => _ended.Token;

    /// <summary>The worker asks for the next sample; <paramref name="newestReport"/> is the newest position report known now.</summary>
    public void Asking(long newestReport)
    {
        lock (_gate)
        {
            _asked = newestReport;
        }
    }

    /// <summary>A sample came back and was handled; <paramref name="contact"/> is the event it sent, if it crossed the threshold.</summary>
    public void Sampled(ContactEvent? contact)
    {
        lock (_gate)
        {
            _contact ??= contact;
            _covered = _asked;
            var seen = _contact;
            var covered = _covered;
            _waiting.RemoveAll(w => (seen is not null || w.Sequence <= covered) && w.Answer.TrySetResult(seen));
        }
    }

    /// <summary>The hold ended (aborted, failed or done): questions it can no longer answer fail.</summary>
    public void End()
    {
        lock (_gate)
        {
            foreach (var (_, answer) in _waiting)
            {
                answer.TrySetCanceled();
            }
            _waiting.Clear();
        }
        _ended.Cancel();
    }

    /// <summary>
    /// The contact event of this hold, or null when none of its samples up to the one after position report
    /// <paramref name="report"/> crossed the threshold. Cancelled when the hold ends before a sample covers that report.
    /// </summary>
    public Task<ContactEvent?> ContactUpToAsync(long report, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_contact is not null || _covered >= report)
            {
                return Task.FromResult(_contact);
            }
            if (_ended.IsCancellationRequested)
            {
                return Task.FromCanceled<ContactEvent?>(_ended.Token);
            }
            var answer = new TaskCompletionSource<ContactEvent?>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Add((report, answer));
            return answer.Task.WaitAsync(cancellationToken);
        }
    }
}
