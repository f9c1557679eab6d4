using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace HarborOps.Lab.Kube;

public sealed partial class KubeEmulator
{
    private const int HistoryLimit = 20_000;

    private sealed record WatchEvent(long ResourceVersion, KubeResourceType Type, string EventType, JsonObject Object);

    private sealed class Watcher(KubeResourceType type, string? ns, KubeLabelSelector labels, KubeFieldSelector fields)
    {
        /// <summary>"deployments.apps in team-a" (or "in all namespaces").</summary>
        public string Description { get; } = $"{type.Qualified} in {ns ?? "all namespaces"}";

        public Channel<WatchEvent> Events { get; } = Channel.CreateUnbounded<WatchEvent>(new UnboundedChannelOptions { SingleReader = true });

        public bool Wants(WatchEvent e) =>
            e.Type == type && (ns is null || NamespaceOf(e.Object) == ns) && labels.Matches(e.Object) && fields.Matches(e.Object);
    }

    /// <summary>The watches open right now, as "deployments.apps in team-a": a test can wait until a client is watching.</summary>
    public IReadOnlyList<string> ActiveWatches { get { lock (_gate) return _watchers.Select(w => w.Description).ToArray(); } }

    /// <summary>Records an event (under the gate) and hands a snapshot to every interested watcher.</summary>
    private void Publish(KubeResourceType type, string eventType, JsonObject item)
    {
        var snapshot = new WatchEvent(_resourceVersion, type, eventType, (JsonObject)item.DeepClone());
        _history.AddLast(snapshot);
        if (_history.Count > HistoryLimit) _history.RemoveFirst();
        foreach (var watcher in _watchers)
            if (watcher.Wants(snapshot)) watcher.Events.Writer.TryWrite(snapshot);
    }

    /// <summary>
    /// A watch as the API server streams it: one JSON event per line, chunked. From a resourceVersion the events after
    /// it (410 Gone when it is older than the kept history); without one, the current objects as ADDED first.
    /// </summary>
    private async Task WatchAsync(HttpContext context, KubeResourceType type, string? ns, string? name, IQueryCollection query)
    {
        var labels = KubeLabelSelector.Parse(query["labelSelector"]);
        var fieldText = query["fieldSelector"].ToString();
        if (name is not null) fieldText = string.IsNullOrEmpty(fieldText) ? $"metadata.name={name}" : $"{fieldText},metadata.name={name}";
        var fields = KubeFieldSelector.Parse(fieldText, type);
        var watcher = new Watcher(type, ns, labels, fields);
        var from = query["resourceVersion"].ToString();
        // A resourceVersion older than the kept history is not an HTTP error: the watch cache answers 200 and streams one
        // ERROR event holding a 410 Expired Status (k8s.io/apiserver/pkg/storage/cacher/cacher.go, newErrWatcher), which
        // client-go's reflector and the Python client's Watch turn into a fresh list.
        KubeApiError? expired = null;
        lock (_gate)
        {
            if (from is "" or "0")
            {
                foreach (var item in ListLocked(type, ns).Where(o => labels.Matches(o) && fields.Matches(o)))
                    watcher.Events.Writer.TryWrite(new WatchEvent(_resourceVersion, type, "ADDED", (JsonObject)item.DeepClone()));
            }
            else
            {
                if (!long.TryParse(from, out var since)) throw KubeApiError.BadRequest($"invalid resource version: {from}");
                if (_history.First is { } oldest && since < oldest.Value.ResourceVersion - 1 && since < _resourceVersion)
                    expired = new KubeApiError(410, "Expired", $"too old resource version: {since} ({oldest.Value.ResourceVersion - 1})");
                else foreach (var e in _history.Where(e => e.ResourceVersion > since && watcher.Wants(e))) watcher.Events.Writer.TryWrite(e);
            }
            if (expired is null) _watchers.Add(watcher);
        }
        if (expired is not null)
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            var line = new JsonObject { ["type"] = "ERROR", ["object"] = expired.ToStatus() }.ToJsonString(Compact) + "\n";
            await context.Response.WriteAsync(line, context.RequestAborted);
            return;
        }
        try
        {
            var timeout = int.TryParse(query["timeoutSeconds"], out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(30);
            using var ends = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            ends.CancelAfter(timeout);
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.StartAsync(ends.Token);
            await context.Response.Body.FlushAsync(ends.Token);
            try
            {
                await foreach (var e in watcher.Events.Reader.ReadAllAsync(ends.Token))
                {
                    CheckWatchEvent(e.Type, e.EventType, e.Object);
                    var line = new JsonObject { ["type"] = e.EventType, ["object"] = e.Object.DeepClone() }.ToJsonString(Compact) + "\n";
                    await context.Response.WriteAsync(line, ends.Token);
                    await context.Response.Body.FlushAsync(ends.Token);
                }
            }
            catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
            {
                // the watch's timeout or the lab stopping: the stream simply ends, as the API server's does
            }
        }
        finally
        {
            lock (_gate) _watchers.Remove(watcher);
        }
    }
}
