using System.Text;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Migration;

/// <summary>
/// The resume journal: an append-only text file with one line per blob or manifest that finished at a destination
/// ("blob|manifest|repository TAB registry TAB repository TAB digest"). Lines reach the disk (fsync) before the caller goes on;
/// callers that finish at the same time share one fsync (group commit), so the journal costs little on fast runs.
/// A torn last line after a crash is ignored. The journal only tells where blobs already are (so a re-run mounts or
/// skips them); every entry is confirmed with a HEAD at the destination before it is trusted.
/// </summary>
internal sealed class CopyJournal : IAsyncDisposable
{
    private const string Header = "# HarborOps copy journal v1";
    private readonly FileStream _file;
    private readonly string _registry;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly List<string> _pending = [];
    private readonly Dictionary<string, HashSet<string>> _blobRepositories = new(StringComparer.Ordinal);
    private readonly HashSet<string> _manifests = new(StringComparer.Ordinal);
    private readonly HashSet<string> _startedRepositories = new(StringComparer.Ordinal);

    private CopyJournal(FileStream file, string registry)
    {
        this._file = file;
        this._registry = registry;
    }

    public string Path => _file.Name;
    public int LoadedEntries { get; private set; }

    /// <summary>
    /// Opens (creating if needed) the journal and reads what earlier runs recorded for <paramref name="destinationRegistry"/>.
    /// The journal is held exclusively until disposed: two runs appending to one journal interleave and lose lines.
    /// </summary>
    public static async Task<CopyJournal> OpenAsync(string path, string destinationRegistry, CancellationToken cancellationToken)
    {
        var full = System.IO.Path.GetFullPath(path);
        FileStream stream;
        try
        {
            var directory = System.IO.Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
            // FileShare.None is an exclusive flock on Unix, which excludes other processes and other handles of this one
            // (FileShare.Read gave a shared lock that a second run shared too).
            stream = new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 4096, useAsync: true);
        }
        catch (IOException ex) when (IsHeldByOther(ex))
        {
            throw InUse(full, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new HarborOpsException(CopyErrorIds.JournalInvalid, FailureKind.InvalidArgument,
                $"The copy journal '{full}' cannot be opened ({ex.Message}). Choose a writable path, or make sure no other copy is using it.", full, ex);
        }
        var journal = new CopyJournal(stream, destinationRegistry);
        try
        {
            journal.LockAcrossProcesses();
            await journal.LoadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return journal;
    }

    /// <summary>
    /// A POSIX record lock besides the flock: it holds where .NET's flock is switched off
    /// (DOTNET_SYSTEM_IO_DISABLEFILELOCKING) and on network file systems that honour only fcntl locks.
    /// </summary>
    private void LockAcrossProcesses()
    {
        // Windows enforces FileShare.None itself. .NET on macOS has no FileStream.Lock (it throws
        // PlatformNotSupportedException, which failed every journaled copy there); the flock holds alone.
        if (OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()) return;
        try
        {
            _file.Lock(0, long.MaxValue);
        }
        catch (IOException ex) when (IsHeldByOther(ex))
        {
            throw InUse(_file.Name, ex);
        }
    }

    /// <summary>
    /// A lock someone else holds: Windows reports ERROR_SHARING_VIOLATION (32) or ERROR_LOCK_VIOLATION (33); on Unix
    /// .NET puts the errno in HResult: EWOULDBLOCK (11 on Linux, 35 on macOS) from flock, EACCES (13) or EAGAIN from fcntl.
    /// </summary>
    private static bool IsHeldByOther(IOException ex) =>
        OperatingSystem.IsWindows() ? (ex.HResult & 0xFFFF) is 32 or 33 : ex.HResult is 11 or 35 or 13;

    private static HarborOpsException InUse(string full, Exception inner) =>
        new(CopyErrorIds.JournalInUse, FailureKind.InvalidArgument,
            $"The copy journal '{full}' is in use: another run of Copy-RegistryImage (in this or another process) holds it. Nothing was copied. Wait for that run to finish, or give this run a -JournalPath of its own.",
            full, inner);

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var bytes = new byte[_file.Length];
        var read = 0;
        while (read < bytes.Length)
        {
            var n = await _file.ReadAsync(bytes.AsMemory(read), cancellationToken).ConfigureAwait(false);
            if (n == 0) break;
            read += n;
        }
        if (!StartsWithHeader(bytes.AsSpan(0, read)))
            throw new HarborOpsException(CopyErrorIds.JournalNotAJournal, FailureKind.InvalidArgument,
                $"'{_file.Name}' is not a HarborOps copy journal (it has content, and its first line is not '{Header}'), so it was left as it is. " +
                "Give -JournalPath a new file name (the journal is created) or the journal of an earlier copy.", _file.Name);
        var text = Encoding.UTF8.GetString(bytes, 0, read);
        var lines = text.Split('\n');
        // The last element is either empty (file ends with a newline) or a torn line from a crash: never trusted.
        for (var i = 0; i < lines.Length - 1; i++)
        {
            var parts = lines[i].TrimEnd('\r').Split('\t');
            if (parts.Length != 4 || parts[1] != _registry) continue;
            var (kind, repository, digest) = (parts[0], parts[2], parts[3]);
            if (kind == "blob") Remember(_blobRepositories, digest, repository);
            else if (kind == "manifest") _manifests.Add(repository + "@" + digest);
            else if (kind == "repository") _startedRepositories.Add(repository);
            else continue;
            LoadedEntries++;
        }
        if (read > 0 && bytes[read - 1] != (byte)'\n')
        {
            // Cut the torn line so new lines start on a line of their own.
            var lastNewline = Array.LastIndexOf(bytes, (byte)'\n', read - 1);
            _file.SetLength(lastNewline + 1);
        }
        _file.Seek(0, SeekOrigin.End);
        if (_file.Length == 0)
        {
            await _file.WriteAsync(Encoding.UTF8.GetBytes(Header + "\n"), cancellationToken).ConfigureAwait(false);
            _file.Flush(flushToDisk: true);
        }
    }

    /// <summary>
    /// True for a journal, an empty file, and a header a crash cut short (it is our own first write); anything else is
    /// someone's file, and cutting its "torn last line" would destroy it.
    /// </summary>
    private static bool StartsWithHeader(ReadOnlySpan<byte> content)
    {
        ReadOnlySpan<byte> header = Encoding.UTF8.GetBytes(Header + "\n");
        return content.Length >= header.Length ? content.StartsWith(header) : header.StartsWith(content);
    }

    private static void Remember(Dictionary<string, HashSet<string>> map, string key, string value)
    {
        if (!map.TryGetValue(key, out var set)) map[key] = set = new HashSet<string>(StringComparer.Ordinal);
        set.Add(value);
    }

    /// <summary>Destination repositories an earlier run finished <paramref name="digest"/> in.</summary>
    public IReadOnlyCollection<string> RepositoriesWithBlob(string digest)
    {
        lock (_blobRepositories) return _blobRepositories.TryGetValue(digest, out var set) ? set.ToArray() : [];
    }

    /// <summary>True when an earlier run finished anything in <paramref name="repository"/> (it may hold blobs but no tag yet).</summary>
    public bool HasEntriesFor(string repository)
    {
        lock (_startedRepositories)
            if (_startedRepositories.Contains(repository)) return true;
        lock (_blobRepositories)
            if (_blobRepositories.Values.Any(set => set.Contains(repository))) return true;
        lock (_manifests) return _manifests.Any(m => m.StartsWith(repository + "@", StringComparison.Ordinal));
    }

    /// <summary>
    /// Recorded before the first write into a repository that did not exist, so that a re-run after a crash knows the
    /// repository may hold blobs even when the crash came before their own lines reached the disk.
    /// </summary>
    public Task RecordRepositoryStartedAsync(string repository, CancellationToken cancellationToken)
    {
        lock (_startedRepositories) _startedRepositories.Add(repository);
        return AppendAsync($"repository\t{_registry}\t{repository}\t-", cancellationToken);
    }

    public Task RecordBlobAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        lock (_blobRepositories) Remember(_blobRepositories, digest, repository);
        return AppendAsync($"blob\t{_registry}\t{repository}\t{digest}", cancellationToken);
    }

    public Task RecordManifestAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        lock (_manifests) _manifests.Add(repository + "@" + digest);
        return AppendAsync($"manifest\t{_registry}\t{repository}\t{digest}", cancellationToken);
    }

    /// <summary>Returns once the line is on disk: whoever holds the writer flushes every line queued so far.</summary>
    private async Task AppendAsync(string line, CancellationToken cancellationToken)
    {
        lock (_pending) _pending.Add(line);
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            string[] batch;
            lock (_pending)
            {
                batch = _pending.ToArray();
                _pending.Clear();
            }
            if (batch.Length == 0) return; // an earlier holder wrote and synced this line
            var bytes = Encoding.UTF8.GetBytes(string.Join('\n', batch) + "\n");
            await _file.WriteAsync(bytes, CancellationToken.None).ConfigureAwait(false);
            _file.Flush(flushToDisk: true);
        }
        finally
        {
            _writer.Release();
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _writer.WaitAsync().ConfigureAwait(false);
        try
        {
            string[] batch;
            lock (_pending)
            {
                batch = _pending.ToArray();
                _pending.Clear();
            }
            if (batch.Length > 0)
            {
                await _file.WriteAsync(Encoding.UTF8.GetBytes(string.Join('\n', batch) + "\n")).ConfigureAwait(false);
                _file.Flush(flushToDisk: true);
            }
            await _file.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _writer.Release();
            _writer.Dispose();
        }
    }
}
