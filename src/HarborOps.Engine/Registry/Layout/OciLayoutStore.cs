using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Registry.Layout;

/// <summary>
/// OCI image layout directories (image-spec image-layout.md) used as a registry: the root and every directory below it
/// that holds an oci-layout file is a "repository"; tags are the org.opencontainers.image.ref.name annotations of
/// index.json; manifests and blobs live in blobs/&lt;alg&gt;/&lt;hex&gt;. Writes are atomic (temp file + rename) and
/// verified, so a reader never sees a partial blob or a half-written index.json.
/// </summary>
public sealed class OciLayoutStore : IImageStore
{
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";
    private const string LayoutFile = "oci-layout";
    private const string IndexFile = "index.json";
    private const int MaxDepth = 8;
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> IndexLocks = new(StringComparer.Ordinal);

    public OciLayoutStore(string rootDirectory)
    {
        Root = Path.GetFullPath(rootDirectory);
        Registry = ImageReference.OciLayoutPrefix + Root;
    }

    public string Root { get; }
    public string Registry { get; }

    /// <summary>The directory of a repository ("" is the root), refusing paths that would leave the root.</summary>
    public string LayoutDirectory(string repository)
    {
        if (repository.Length == 0) return Root;
        var parts = repository.Split('/');
        if (parts.Any(p => p.Length == 0 || p == "." || p == ".." || p.Contains('\\')))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                $"'{repository}' is not a usable repository path inside the layout root {Root}: use names like team/app without '.', '..' or empty parts.", repository);
        return Path.Combine([Root, .. parts]);
    }

    private string Describe(string repository) => repository.Length == 0 ? Registry : $"{Registry}/{repository}";

    public async IAsyncEnumerable<IReadOnlyList<string>> ListRepositoryPagesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        if (!Directory.Exists(Root))
            throw new RegistryException(RegistryErrorIds.RepositoryNotFound, FailureKind.NotFound,
                $"The OCI layout root '{Root}' does not exist.", Registry);
        var found = new List<string>();
        var pending = new Queue<(string Dir, int Depth)>();
        pending.Enqueue((Root, 0));
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (dir, depth) = pending.Dequeue();
            var isLayout = File.Exists(Path.Combine(dir, LayoutFile));
            if (isLayout) found.Add(Path.GetRelativePath(Root, dir) is "." ? "" : Path.GetRelativePath(Root, dir).Replace('\\', '/'));
            if (depth >= MaxDepth) continue;
            IEnumerable<string> children;
            try { children = Directory.EnumerateDirectories(dir); }
            catch (UnauthorizedAccessException) { continue; }
            foreach (var child in children)
            {
                // A layout's own blobs directory holds content, never nested layouts.
                if (isLayout && Path.GetFileName(child) == "blobs") continue;
                if ((File.GetAttributes(child) & FileAttributes.ReparsePoint) != 0) continue;
                pending.Enqueue((child, depth + 1));
            }
        }
        found.Sort(StringComparer.Ordinal);
        yield return found;
    }

    public async IAsyncEnumerable<IReadOnlyList<string>> ListTagPagesAsync(string repository, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var index = await ReadIndexAsync(repository, mustExist: true, cancellationToken).ConfigureAwait(false);
        var tags = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var descriptor in index.Manifests)
            if (TagOf(descriptor) is { } tag && seen.Add(tag)) tags.Add(tag);
        yield return tags;
    }

    public async IAsyncEnumerable<IReadOnlyList<TaggedManifest>> ListTaggedManifestPagesAsync(string repository, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The index is the inventory: every tag with its descriptor, no manifest read. A tag listed twice means its last entry.
        var index = await ReadIndexAsync(repository, mustExist: true, cancellationToken).ConfigureAwait(false);
        var byTag = new Dictionary<string, TaggedManifest>(StringComparer.Ordinal);
        foreach (var descriptor in index.Manifests)
            if (TagOf(descriptor) is { } tag) byTag[tag] = new TaggedManifest(tag, descriptor);
        yield return byTag.Values.ToList();
    }

    /// <summary>
    /// The tag a descriptor carries. ref.name is usually a bare tag (skopeo, oras) but may be a full reference; the part
    /// after the last ':' that follows the last '/' is the tag then.
    /// </summary>
    internal static string? TagOf(OciDescriptor descriptor)
    {
        if (!descriptor.Annotations.TryGetValue(RefNameAnnotation, out var name) || name.Length == 0) return null;
        var slash = name.LastIndexOf('/');
        var colon = name.LastIndexOf(':');
        var tag = slash >= 0 ? (colon > slash ? name[(colon + 1)..] : null) : name;
        return tag is not null && ImageReference.IsValidTag(tag) ? tag : null;
    }

    public async Task<OciDescriptor?> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        if (reference.Contains(':'))
        {
            Digests.Validate(reference, Describe(repository));
            var path = BlobPath(repository, reference);
            if (!File.Exists(path)) return null;
            var manifest = await GetManifestAsync(repository, reference, cancellationToken).ConfigureAwait(false);
            return manifest.ToDescriptor();
        }
        var index = await ReadIndexAsync(repository, mustExist: false, cancellationToken).ConfigureAwait(false);
        return index.Manifests.LastOrDefault(d => TagOf(d) == reference);
    }

    public async Task<ManifestContent> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        var target = reference.Contains(':') ? $"{Describe(repository)}@{reference}" : $"{Describe(repository)}:{reference}";
        string digest;
        string? mediaType = null;
        if (reference.Contains(':'))
        {
            Digests.Validate(reference, target);
            digest = reference;
        }
        else
        {
            var index = await ReadIndexAsync(repository, mustExist: true, cancellationToken).ConfigureAwait(false);
            var descriptor = index.Manifests.LastOrDefault(d => TagOf(d) == reference)
                ?? throw new RegistryException(RegistryErrorIds.ManifestNotFound, FailureKind.NotFound,
                    $"Tag '{reference}' is not in the OCI layout {LayoutDirectory(repository)} (index.json has no {RefNameAnnotation} '{reference}'). Get-RegistryTag -Reference {Describe(repository)} lists its tags.",
                    target);
            digest = descriptor.Digest;
            mediaType = descriptor.MediaType;
            Digests.Validate(digest, target);
        }
        var path = BlobPath(repository, digest);
        byte[] bytes;
        try { bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new RegistryException(RegistryErrorIds.ManifestNotFound, FailureKind.NotFound,
                $"Manifest {digest} of {target} is missing from {LayoutDirectory(repository)}/blobs; the layout is incomplete.", target, ex);
        }
        var actual = Digests.Compute(digest, bytes);
        if (actual != digest)
            throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
                $"The manifest file for {digest} in {LayoutDirectory(repository)} hashes to {actual}; the layout is corrupt. Re-copy the image.", target);
        return ManifestContent.Parse(bytes, mediaType, target, digest);
    }

    public async Task<string> PutManifestAsync(string repository, string reference, ManifestContent manifest, CancellationToken cancellationToken)
    {
        var target = $"{Describe(repository)}:{reference}";
        if (reference.Contains(':'))
        {
            Digests.Validate(reference, target);
            if (reference != manifest.Digest)
                throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
                    $"The manifest hashes to {manifest.Digest} but was to be stored as {reference}.", target);
        }
        else if (!ImageReference.IsValidTag(reference))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                $"'{reference}' is not a valid tag: letters, digits, '_', '.' and '-' (at most 128), not starting with '.' or '-'.", target);

        await EnsureLayoutAsync(repository, cancellationToken).ConfigureAwait(false);
        using (var content = new MemoryStream(manifest.Bytes, writable: false))
            await PutBlobAsync(repository, manifest.Digest, manifest.Size, content, cancellationToken).ConfigureAwait(false);
        if (reference.Contains(':')) return manifest.Digest;

        var gate = IndexLocks.GetOrAdd(LayoutDirectory(repository), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var index = await ReadIndexAsync(repository, mustExist: true, cancellationToken).ConfigureAwait(false);
            var annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [RefNameAnnotation] = reference };
            var added = new OciDescriptor(manifest.MediaType, manifest.Digest, manifest.Size) { Annotations = annotations, ArtifactType = manifest.ArtifactType };
            await WriteIndexAsync(repository, index.RawRoot, reference, added, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
        return manifest.Digest;
    }

    public Task<long?> HeadBlobAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Describe(repository));
        var info = new FileInfo(BlobPath(repository, digest));
        return Task.FromResult(info.Exists ? info.Length : (long?)null);
    }

    public Task<Stream> OpenBlobAsync(string repository, string digest, long? expectedSize, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Describe(repository));
        var path = BlobPath(repository, digest);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, useAsync: true);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new RegistryException(RegistryErrorIds.BlobNotFound, FailureKind.NotFound,
                $"Blob {digest} is not in the OCI layout {LayoutDirectory(repository)}.", $"{Describe(repository)}@{digest}", ex);
        }
        return Task.FromResult<Stream>(new DigestVerifyingStream(file, digest, expectedSize ?? file.Length, $"{Describe(repository)}@{digest}"));
    }

    public async Task PutBlobAsync(string repository, string digest, long size, Stream content, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Describe(repository));
        await EnsureLayoutAsync(repository, cancellationToken).ConfigureAwait(false);
        var final = BlobPath(repository, digest);
        if (File.Exists(final) && new FileInfo(final).Length == size) return; // content-addressed: same name, same bytes
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        var temp = Path.Combine(Path.GetDirectoryName(final)!, $".tmp-{Guid.NewGuid():N}");
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            await using (var verifying = new DigestVerifyingStream(content, digest, size, $"{Describe(repository)}@{digest}", leaveOpen: true))
            {
                await verifying.CopyToAsync(file, 81920, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            File.Move(temp, final, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Within one layout root a "mount" is a local file copy: no network, but the blob is verified again.</summary>
    public async Task<bool> TryMountBlobAsync(string repository, string digest, string fromRepository, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Describe(repository));
        if (fromRepository == repository) return false;
        var from = BlobPath(fromRepository, digest);
        if (!File.Exists(from)) return false;
        var length = new FileInfo(from).Length;
        await using var content = await OpenBlobAsync(fromRepository, digest, length, cancellationToken).ConfigureAwait(false);
        await PutBlobAsync(repository, digest, length, content, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Layouts have no referrers API; callers fall back to the tag schema and cosign tags.</summary>
    public Task<IReadOnlyList<OciDescriptor>?> GetReferrersAsync(string repository, string digest, string? artifactType, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<OciDescriptor>?>(null);

    private string BlobPath(string repository, string digest) =>
        Path.Combine(LayoutDirectory(repository), "blobs", Digests.AlgorithmOf(digest), Digests.EncodedOf(digest));

    private async Task EnsureLayoutAsync(string repository, CancellationToken cancellationToken)
    {
        var dir = LayoutDirectory(repository);
        var layoutFile = Path.Combine(dir, LayoutFile);
        if (File.Exists(layoutFile) && File.Exists(Path.Combine(dir, IndexFile))) return;
        var gate = IndexLocks.GetOrAdd(dir, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "blobs", "sha256"));
            if (!File.Exists(layoutFile))
                await WriteAtomicallyAsync(layoutFile, Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"), cancellationToken).ConfigureAwait(false);
            if (!File.Exists(Path.Combine(dir, IndexFile)))
                await WriteIndexAsync(repository, null, null, null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private sealed record LayoutIndex(IReadOnlyList<OciDescriptor> Manifests, JsonElement? RawRoot);

    private async Task<LayoutIndex> ReadIndexAsync(string repository, bool mustExist, CancellationToken cancellationToken)
    {
        var dir = LayoutDirectory(repository);
        var indexPath = Path.Combine(dir, IndexFile);
        if (!File.Exists(Path.Combine(dir, LayoutFile)) || !File.Exists(indexPath))
        {
            if (!mustExist) return new LayoutIndex([], null);
            throw new RegistryException(RegistryErrorIds.RepositoryNotFound, FailureKind.NotFound,
                $"'{dir}' is not an OCI image layout (it has no {LayoutFile} and {IndexFile}). Check the path; Get-RegistryRepository -Registry oci:<root> lists the layouts below a directory.",
                Describe(repository));
        }
        var bytes = await File.ReadAllBytesAsync(indexPath, cancellationToken).ConfigureAwait(false);
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("index.json is not a JSON object");
            return new LayoutIndex(ManifestContent.ReadDescriptors(doc.RootElement, "manifests"), doc.RootElement.Clone());
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorIds.LayoutInvalid, FailureKind.InvalidData,
                $"{indexPath} is not a valid OCI index ({ex.Message}). Repair or remove the layout.", Describe(repository), ex);
        }
    }

    /// <summary>
    /// Rewrites index.json: every existing entry verbatim (fields this engine does not know survive) except those
    /// carrying <paramref name="replacedTag"/>, then <paramref name="added"/>; other top-level fields are kept too.
    /// </summary>
    private async Task WriteIndexAsync(string repository, JsonElement? previous, string? replacedTag, OciDescriptor? added, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        // Relaxed escaping: this is a file, not HTML, and "+json" media types should read as other tools write them.
        await using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", 2);
            writer.WriteString("mediaType", MediaTypes.OciIndex);
            writer.WriteStartArray("manifests");
            if (previous is { ValueKind: JsonValueKind.Object } old && old.TryGetProperty("manifests", out var existing) && existing.ValueKind == JsonValueKind.Array)
                foreach (var entry in existing.EnumerateArray())
                    if (ManifestContent.ReadDescriptor(entry) is not { } d || replacedTag is null || TagOf(d) != replacedTag)
                        entry.WriteTo(writer);
            if (added is not null) OciDescriptorJson.Write(writer, added);
            writer.WriteEndArray();
            if (previous is { ValueKind: JsonValueKind.Object } root)
                foreach (var property in root.EnumerateObject())
                    if (property.Name is not ("schemaVersion" or "mediaType" or "manifests"))
                        property.WriteTo(writer);
            writer.WriteEndObject();
        }
        await WriteAtomicallyAsync(Path.Combine(LayoutDirectory(repository), IndexFile), buffer.ToArray(), cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteAtomicallyAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        var temp = path + $".tmp-{Guid.NewGuid():N}";
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, useAsync: true))
            {
                await file.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
