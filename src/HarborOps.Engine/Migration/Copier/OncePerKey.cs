using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Runs a piece of work at most once per key and hands every caller of that key the same task (go-containerregistry's
/// pusher does each digest once the same way). Concurrent callers share the one run. A run that failed stays failed:
/// later callers of its key get the same failure and nothing runs again (a caller that wants another try starts it
/// itself, outside the table).
/// </summary>
internal sealed class OncePerKey<TKey, TResult>(IEqualityComparer<TKey>? comparer = null) where TKey : notnull
{
    // Lazy (ExecutionAndPublication) makes GetOrAdd's lost races harmless: only the stored Lazy ever runs, and it also
    // keeps an exception its work threw before returning a task.
    private readonly ConcurrentDictionary<TKey, Lazy<Task<TResult>>> _runs = new(comparer);

    /// <summary>The run of <paramref name="key"/>: started with <paramref name="run"/> by the first caller, shared by the others.</summary>
    public Task<TResult> RunAsync(TKey key, Func<Task<TResult>> run) =>
        _runs.GetOrAdd(key, _ => new Lazy<Task<TResult>>(run)).Value;

    /// <summary>As <see cref="RunAsync(TKey, Func{Task{TResult}})"/>; <paramref name="startedHere"/> tells whether this caller's <paramref name="run"/> is the one that runs.</summary>
    public Task<TResult> RunAsync(TKey key, Func<Task<TResult>> run, out bool startedHere)
    {
        var mine = new Lazy<Task<TResult>>(run);
        var stored = _runs.GetOrAdd(key, mine);
        startedHere = ReferenceEquals(stored, mine);
        return stored.Value;
    }

    /// <summary>Records a result obtained another way (a manifest read by tag is also the manifest of its digest); false when the key already has a run.</summary>
    public bool TryAddResult(TKey key, TResult result) =>
        _runs.TryAdd(key, new Lazy<Task<TResult>>(Task.FromResult(result)));

    /// <summary>The run of <paramref name="key"/> if one was started; never starts one.</summary>
    public bool TryGetRun(TKey key, [MaybeNullWhen(false)] out Task<TResult> run)
    {
        if (_runs.TryGetValue(key, out var stored))
        {
            run = stored.Value;
            return true;
        }
        run = null;
        return false;
    }
}

/// <summary><see cref="OncePerKey{TKey, TResult}"/> for work without a result: the same sharing and the same kept failure.</summary>
internal sealed class OncePerKey<TKey>(IEqualityComparer<TKey>? comparer = null) where TKey : notnull
{
    private readonly OncePerKey<TKey, bool> _runs = new(comparer);

    public Task RunAsync(TKey key, Func<Task> run) =>
        _runs.RunAsync(key, async () =>
        {
            await run().ConfigureAwait(false);
            return true;
        });
}
