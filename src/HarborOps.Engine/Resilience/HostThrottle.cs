using System.Collections.Concurrent;

namespace HarborOps.Engine.Resilience;

/// <summary>
/// Bounded concurrency per registry host (ThrottleLimit): every request-sized step of a copy runs inside its host's
/// slot, so many tags in flight never become more than N simultaneous requests to one registry. Steps never hold
/// two slots at once, so the gates cannot deadlock. A step started inside <see cref="FirstInLine"/> gets the next free
/// slot before any other step waiting for one (a shard's uploads that other shards wait for).
/// </summary>
internal sealed class HostThrottle(int limit) : IDisposable
{
    private static readonly AsyncLocal<bool> InFirstLine = new();
    private readonly ConcurrentDictionary<string, Gate> _gates = new(StringComparer.OrdinalIgnoreCase);

    public int Limit { get; } = Math.Max(1, limit);

    /// <summary>Whether the caller's flow runs inside <see cref="FirstInLine(Func{Task})"/>.</summary>
    public static bool IsFirstInLine => InFirstLine.Value;

    /// <summary>Runs <paramref name="work"/> with every step it starts (in its async flow) first in line for a slot.</summary>
    public static async Task FirstInLine(Func<Task> work) =>
        await FirstInLine(async () => { await work().ConfigureAwait(false); return true; }).ConfigureAwait(false);

    /// <inheritdoc cref="FirstInLine(Func{Task})"/>
    public static async Task<T> FirstInLine<T>(Func<Task<T>> work)
    {
        // Set in this method's own flow: the caller's flow is as it was once this returns.
        InFirstLine.Value = true;
        return await work().ConfigureAwait(false);
    }

    public async Task<T> RunAsync<T>(string host, Func<Task<T>> step, CancellationToken cancellationToken)
    {
        var gate = _gates.GetOrAdd(host, _ => new Gate(Limit));
        await gate.EnterAsync(InFirstLine.Value, cancellationToken).ConfigureAwait(false);
        try
        {
            return await step().ConfigureAwait(false);
        }
        finally
        {
            gate.Leave();
        }
    }

    public async Task RunAsync(string host, Func<Task> step, CancellationToken cancellationToken) =>
        await RunAsync(host, async () => { await step().ConfigureAwait(false); return true; }, cancellationToken).ConfigureAwait(false);

    public void Dispose()
    {
        foreach (var gate in _gates.Values) gate.Dispose();
    }

    /// <summary>N slots, handed to the first-in-line waiters before the others, each queue in arrival order.</summary>
    private sealed class Gate(int slots) : IDisposable
    {
        private readonly object _lock = new();
        private readonly LinkedList<TaskCompletionSource> _first = new();
        private readonly LinkedList<TaskCompletionSource> _others = new();
        private int _free = slots;

        public async Task EnterAsync(bool firstInLine, CancellationToken cancellationToken)
        {
            TaskCompletionSource waiter;
            LinkedListNode<TaskCompletionSource> node;
            lock (_lock)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_free > 0)
                {
                    _free--;
                    return;
                }
                waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                node = (firstInLine ? _first : _others).AddLast(waiter);
            }
            using var registration = cancellationToken.Register(() =>
            {
                lock (_lock)
                {
                    // Not handed a slot yet: leave the queue. Handed one already: the slot is the caller's to give back.
                    if (node.List is null) return;
                    node.List.Remove(node);
                }
                waiter.TrySetCanceled(cancellationToken);
            });
            await waiter.Task.ConfigureAwait(false);
        }

        public void Leave()
        {
            TaskCompletionSource? next;
            lock (_lock)
            {
                var queue = _first.Count > 0 ? _first : _others.Count > 0 ? _others : null;
                if (queue is null)
                {
                    _free++;
                    return;
                }
                next = queue.First!.Value;
                queue.RemoveFirst();
            }
            next.SetResult();
        }

        public void Dispose()
        {
            lock (_lock)
            {
                foreach (var waiter in _first.Concat(_others)) waiter.TrySetCanceled();
                _first.Clear();
                _others.Clear();
            }
        }
    }
}
