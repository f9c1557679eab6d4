using HarborOps.Engine.Manifests;

namespace HarborOps.Engine.Registry;

/// <summary>
/// Whether one registry answers the OCI referrers API, found out once per run. A registry either has the API or not:
/// the first caller asks with its real query while concurrent callers wait for that answer, so a registry without it
/// (Distribution 2.8, Harbor before 2.8) costs one request per run instead of one per digest. A query that fails
/// without an answer (throttled, a dropped connection) settles nothing: the next caller asks again.
/// </summary>
internal sealed class ReferrersApiProbe
{
    private TaskCompletionSource<bool?>? _inFlight;
    private int _answer; // 0 unknown, 1 the registry has the API, -1 it has not

    /// <summary>1 when the registry answers the referrers API, -1 when it does not, 0 while nobody knows yet.</summary>
    public int Known => Volatile.Read(ref _answer);

    /// <summary>
    /// The query's result (the referrers of one digest), or null when the registry has no referrers API; the query
    /// itself returns null for that. After the first answer a registry without the API is not asked again.
    /// </summary>
    public async Task<IReadOnlyList<OciDescriptor>?> QueryAsync(Func<Task<IReadOnlyList<OciDescriptor>?>> query, CancellationToken cancellationToken)
    {
        switch (Known)
        {
            case < 0: return null;
            case > 0: return await query().ConfigureAwait(false);
        }
        var (has, asked) = await SettleAsync(query, cancellationToken).ConfigureAwait(false);
        return !has ? null : asked ?? await query().ConfigureAwait(false);
    }

    /// <summary>Whether the registry has the API; <paramref name="query"/> is sent only while nobody knows yet.</summary>
    public async Task<bool> HasApiAsync(Func<Task<IReadOnlyList<OciDescriptor>?>> query, CancellationToken cancellationToken) =>
        Known != 0 ? Known > 0 : (await SettleAsync(query, cancellationToken).ConfigureAwait(false)).Has;

    /// <summary>The answer, and the query's result when this caller was the one that asked.</summary>
    private async Task<(bool Has, IReadOnlyList<OciDescriptor>? Asked)> SettleAsync(Func<Task<IReadOnlyList<OciDescriptor>?>> query, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (Known != 0) return (Known > 0, null);
            var mine = new TaskCompletionSource<bool?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var other = Interlocked.CompareExchange(ref _inFlight, mine, null);
            if (other is null)
            {
                var result = await AskFirstAsync(mine, query).ConfigureAwait(false);
                return (result is not null, result);
            }
            if (await other.Task.WaitAsync(cancellationToken).ConfigureAwait(false) is bool settled) return (settled, null);
            // That probe failed without an answer: ask again, possibly as the next prober.
        }
        var own = await query().ConfigureAwait(false);
        return (own is not null, own);
    }

    private async Task<IReadOnlyList<OciDescriptor>?> AskFirstAsync(TaskCompletionSource<bool?> mine, Func<Task<IReadOnlyList<OciDescriptor>?>> query)
    {
        try
        {
            var result = await query().ConfigureAwait(false);
            Volatile.Write(ref _answer, result is null ? -1 : 1);
            mine.TrySetResult(result is not null);
            return result;
        }
        catch
        {
            Interlocked.CompareExchange(ref _inFlight, null, mine);
            mine.TrySetResult(null);
            throw;
        }
    }
}
