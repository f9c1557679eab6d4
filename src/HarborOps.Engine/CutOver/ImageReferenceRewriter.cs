using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Scope;
using HarborOps.Models;

namespace HarborOps.Engine.CutOver;

/// <summary>
/// Update-ImageReference's request: the files, the registries (or registry path prefixes) to move away from, and the
/// destination with Copy-RegistryImage's mapping options, so references land exactly where the copy put the images.
/// </summary>
public sealed record ImageReferenceRewriteRequest(IReadOnlyList<string> Paths, IReadOnlyList<string> From, string Destination)
    : ImageReferenceFileSelection(Paths)
{
    /// <summary>A path added below the destination (Copy-RegistryImage -DestinationPrefix).</summary>
    public string? DestinationPrefix { get; init; }
    /// <summary>Leading repository path segments removed before mapping (Copy-RegistryImage -StripPrefixSegments).</summary>
    public int StripPrefixSegments { get; init; }
    /// <summary>Repository renames (Copy-RegistryImage -Rename).</summary>
    public IReadOnlyDictionary<string, string> RenameRepositories { get; init; } = new Dictionary<string, string>();
    /// <summary>Add the digest the destination serves for each rewritten tag (a reference that has a digest keeps it).</summary>
    public bool PinDigest { get; init; }
    /// <summary>Credential for the destination registry, for -PinDigest.</summary>
    public NetworkCredential? DestinationCredential { get; init; }
}

/// <summary>
/// The rewrite of one file, computed but not yet written: the changes, the unified diff, and the new content. A file
/// that failed (unreadable, binary, malformed, a digest to pin that is missing) has a Failure and nothing to write.
/// </summary>
public sealed class ImageReferenceFilePlan
{
    internal ImageReferenceFilePlan(string path, IReadOnlyList<ImageReferenceChange> changes, string diff, HarborOpsException? failure, TextFile? file, string? newText)
    {
        Path = path;
        Changes = changes;
        Diff = diff;
        Failure = failure;
        File = file;
        NewText = newText;
    }

    public string Path { get; }
    /// <summary>Values to replace (Action Planned) and values reported without a change (Templated, Skipped).</summary>
    public IReadOnlyList<ImageReferenceChange> Changes { get; }
    /// <summary>A unified diff of the rewrite; empty when nothing changes.</summary>
    public string Diff { get; }
    public HarborOpsException? Failure { get; }
    public bool HasRewrite => NewText is not null;
    public int RewriteCount => Changes.Count(c => c.Action == ImageReferenceAction.Planned);
    internal TextFile? File { get; }
    internal string? NewText { get; }
}

/// <summary>
/// Rewrites image references from old registries to a new one, splicing only the characters of each changed value:
/// comments, quoting, key order, indentation, line endings and the BOM stay as they were. A file is written through a
/// temporary file in its folder and a rename, and only when its whole rewrite was computed without a failure.
/// </summary>
public sealed class ImageReferenceRewriter
{
    private readonly RegistryEngine _engine;
    private readonly ConcurrentDictionary<string, Task<string?>> _pinnedDigests = new(StringComparer.Ordinal);

    public ImageReferenceRewriter(RegistryEngine engine) => this._engine = engine ?? throw new ArgumentNullException(nameof(engine));

    /// <summary>Computes the rewrite of every selected file; nothing is written (see <see cref="CommitAsync"/>).</summary>
    public async IAsyncEnumerable<ImageReferenceFilePlan> PlanAsync(ImageReferenceRewriteRequest request, IProgress<OperationProgress>? progress,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var scopes = ParseFrom(request.From);
        var mapping = new RepositoryMapping(request.Destination, request.DestinationPrefix, request.StripPrefixSegments, request.RenameRepositories);
        if (mapping.Destination.Registry.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.Ordinal))
            throw Invalid($"The destination '{request.Destination}' is an OCI layout; image references need a registry (harbor.example.com/migrated).", request.Destination);
        var rewrite = new FileRewrite(this, request, scopes, mapping);
        var count = 0;
        foreach (var (path, failure) in FileSelectionWalk.Enumerate(request))
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new OperationProgress("Rewriting image references", path, path, ++count));
            if (failure is not null)
            {
                yield return new ImageReferenceFilePlan(path, [], "", failure, null, null);
                continue;
            }
            ImageReferenceFilePlan plan;
            try
            {
                var scanned = await ImageReferenceScanner.ScanFileAsync(path, cancellationToken).ConfigureAwait(false);
                plan = await rewrite.PlanAsync(scanned, cancellationToken).ConfigureAwait(false);
                // Known before any diff is shown: -WhatIf reports it too.
                if (plan.HasRewrite && !FileLinks.MayWrite(RealTarget(path))) plan = new ImageReferenceFilePlan(path, [], "", ReadOnly(path), null, null);
            }
            catch (HarborOpsException ex) when (!ex.IsTerminating || ex.ErrorId == ScopeErrorIds.MappingInvalid)
            {
                // A reference the mapping cannot place (stripping leaves no name) stops its file, as it stops its repository in a copy.
                plan = new ImageReferenceFilePlan(path, [], "", ex, null, null);
            }
            yield return plan;
        }
        progress?.Report(new OperationProgress("Rewriting image references", $"{count} files", Completed: count, IsComplete: true));
    }

    /// <summary>
    /// Writes a plan's new content: to a temporary file in the same folder (with the file's mode), then renamed over the
    /// file, so a reader sees the old or the new file and never half of one. Refuses when the file changed since it was
    /// read. Returns the plan's changes as Rewritten.
    /// </summary>
    public async Task<IReadOnlyList<ImageReferenceChange>> CommitAsync(ImageReferenceFilePlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Failure is not null || plan.File is null || plan.NewText is null) return [];
        var file = plan.File;
        var target = RealTarget(file.Path);
        var current = new FileInfo(target);
        if (!current.Exists || current.Length != file.Length || current.LastWriteTimeUtc != file.LastWriteUtc)
            throw WriteFailed(file.Path, "it changed on disk after it was read; run the command again", null);
        if (!FileLinks.MayWrite(target)) throw ReadOnly(file.Path);
        var temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.harborops-tmp");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                await file.WriteAsync(stream, plan.NewText, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(temp, File.GetUnixFileMode(target));
            File.Move(temp, target, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(temp);
            if (ex is OperationCanceledException) throw;
            throw WriteFailed(file.Path, ex.Message, ex);
        }
        return plan.Changes.Select(c => c.Action == ImageReferenceAction.Planned ? With(c, ImageReferenceAction.Rewritten) : c).ToList();
    }

    private static ImageReferenceChange With(ImageReferenceChange change, ImageReferenceAction action) => new()
    {
        Path = change.Path, Line = change.Line, Column = change.Column, Kind = change.Kind, Field = change.Field,
        OldValue = change.OldValue, NewValue = change.NewValue, Action = action, Reference = change.Reference, Note = change.Note,
    };

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { /* the write failure is the one to report */ }
    }

    /// <summary>-From values: "registry" or "registry/path" ("registry/path/*" too): a reference moves when it is in that registry, under that path.</summary>
    private static List<CopyDestination> ParseFrom(IReadOnlyList<string> from)
    {
        if (from.Count == 0) throw Invalid("Give the registry to move away from with -From (contoso.azurecr.io, or contoso.azurecr.io/team for one path).", null);
        return from.Select(text =>
        {
            var scope = CopyDestination.Parse((text ?? "").Trim().TrimEnd('*').TrimEnd('/'));
            if (scope.Registry.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.Ordinal))
                throw Invalid($"-From '{text}' is an OCI layout; give a registry such as contoso.azurecr.io.", text);
            return scope;
        }).ToList();
    }

    private Task<string?> ResolveDigestAsync(ImageReference destination, NetworkCredential? credential, CancellationToken cancellationToken) =>
        _pinnedDigests.GetOrAdd(destination.ToString(), async _ =>
        {
            var store = _engine.OpenStore(destination.Registry, credential);
            var descriptor = await store.HeadManifestAsync(destination.Repository, destination.Tag ?? "latest", cancellationToken).ConfigureAwait(false);
            return descriptor?.Digest;
        });

    private static HarborOpsException Invalid(string message, object? target) =>
        new(CutOverErrorIds.RequestInvalid, FailureKind.InvalidArgument, message, target);

    /// <summary>The file a link leads to (the rename replaces that file, and the link stays), or the file itself.</summary>
    private static string RealTarget(string path)
    {
        var info = new FileInfo(path);
        return info.LinkTarget is not null ? info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path : path;
    }

    private static HarborOpsException ReadOnly(string path) =>
        new(CutOverErrorIds.FileReadOnly, FailureKind.PermissionDenied,
            $"'{path}' was not rewritten: its mode does not let you write it (read-only), and replacing it would override that. The file is unchanged. Make it writable (chmod u+w) if it should change, or leave it out with -Exclude.", path);

    private static HarborOpsException WriteFailed(string path, string why, Exception? inner) =>
        new(CutOverErrorIds.WriteFailed, FailureKind.InvalidData, $"'{path}' was not rewritten: {why}. The file is unchanged.", path, inner);

    /// <summary>The per-run state of a rewrite: scopes and mapping; plans one file at a time.</summary>
    private sealed class FileRewrite(ImageReferenceRewriter owner, ImageReferenceRewriteRequest request, List<CopyDestination> scopes, RepositoryMapping mapping)
    {
        private sealed record Edit(ValueField Field, string NewValue);

        public async Task<ImageReferenceFilePlan> PlanAsync(ImageReferenceScanner.ScannedFile scanned, CancellationToken cancellationToken)
        {
            var file = scanned.File;
            var edits = new List<(Edit Edit, ReferenceSite Site, string? Reference, string? Note)>();
            var reports = new List<ImageReferenceChange>();
            foreach (var site in scanned.Sites)
            {
                var composed = AssembledReference.Of(site);
                if (site.Form == ImageReferenceForm.Kustomize && site.Get(FieldRole.Full) is null)
                {
                    await KustomizeAsync(site, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (!site.IsImage)
                {
                    var registryEdits = site.Fields
                        .Where(f => f.Role is FieldRole.Registry or FieldRole.GlobalRegistry && !f.Templated && InScope(f.Value, repository: null))
                        .Select(f => new Edit(f, mapping.Destination.Registry)).ToList();
                    AddOrReport(site, registryEdits, null, null);
                    continue;
                }
                if (composed.Identity is null)
                {
                    if (composed.Templated) reports.Add(Report(file, site, site.Primary, composed.Text, ImageReferenceAction.Templated,
                        "holds a template expression: it is known only when rendered; check what it renders to"));
                    continue;
                }
                if (!InScope(composed.Identity)) continue;
                var mapped = mapping.Map(composed.Identity);
                if (site.Get(FieldRole.Full) is { } full)
                {
                    var old = ImageReference.Parse(full.Value);
                    var digest = old.Digest;
                    string? note = null;
                    if (request.PinDigest && digest is null)
                        digest = await PinAsync(mapped with { Tag = old.Tag }, cancellationToken).ConfigureAwait(false);
                    var replaced = mapped with { Tag = old.Tag, Digest = digest };
                    AddOrReport(site, [new Edit(full, replaced.ToString())], replaced.ToString(), note);
                }
                else
                    await SplitAsync(site, composed, mapped, cancellationToken).ConfigureAwait(false);
            }
            return Build(file, edits, reports);

            async Task SplitAsync(ReferenceSite site, AssembledReference composed, ImageReference mapped, CancellationToken token)
            {
                var splitEdits = new List<Edit>();
                var repository = site.Get(FieldRole.Repository)!;
                var registries = new[] { site.Get(FieldRole.GlobalRegistry), site.Get(FieldRole.Registry) }.Where(f => f is { Value.Length: > 0 }).ToList();
                if (site.EffectiveRegistry is not null)
                {
                    foreach (var registry in registries)
                        if (HostOf(registry!.Value) == composed.Identity!.Registry)
                            splitEdits.Add(new Edit(registry, mapped.Registry));
                    splitEdits.Add(new Edit(repository, mapped.Repository));
                }
                else
                    splitEdits.Add(new Edit(repository, $"{mapped.Registry}/{mapped.Repository}"));
                string? note = null;
                var tag = site.Get(FieldRole.Tag);
                var digest = site.Get(FieldRole.Digest);
                var pinned = mapped with { Tag = tag is { Templated: false, Value.Length: > 0 } ? tag.Value : null, Digest = digest is { Value.Length: > 0 } ? digest.Value : null };
                if (request.PinDigest && pinned.Digest is null)
                {
                    if (tag?.Templated == true) note = "-PinDigest: the tag is templated, so no digest was pinned";
                    else if (digest is null) note = "-PinDigest: this image has no digest key to pin; add one (digest: \"\") to pin it";
                    else
                    {
                        pinned = pinned with { Digest = await PinAsync(pinned, token).ConfigureAwait(false) };
                        splitEdits.Add(new Edit(digest, pinned.Digest!));
                    }
                }
                AddOrReport(site, splitEdits, composed.Templated ? null : pinned.ToString(), note);
            }

            async Task KustomizeAsync(ReferenceSite site, CancellationToken token)
            {
                var kustomizeEdits = new List<Edit>();
                ImageReference? renamed = null;
                foreach (var role in new[] { FieldRole.KustomizeName, FieldRole.KustomizeNewName })
                {
                    if (site.Get(role) is not { Templated: false } field || !ImageReference.TryParse(field.Value, out var name) || !InScope(name!)) continue;
                    var mapped = mapping.Map(name! with { Tag = null, Digest = null });
                    kustomizeEdits.Add(new Edit(field, $"{mapped.Registry}/{mapped.Repository}"));
                    if (role == FieldRole.KustomizeNewName || site.Get(FieldRole.KustomizeNewName) is null) renamed = mapped;
                }
                if (kustomizeEdits.Count == 0)
                {
                    if (site.Fields.Any(f => f.Templated))
                        reports.Add(Report(file, site, site.Primary, AssembledReference.Of(site).Text, ImageReferenceAction.Templated,
                            "holds a template expression: it is known only when rendered; check what it renders to"));
                    return;
                }
                string? note = null;
                var tag = site.Get(FieldRole.Tag);
                var digest = site.Get(FieldRole.Digest);
                var result = renamed is null ? null : renamed with { Tag = tag?.Value, Digest = digest?.Value };
                if (request.PinDigest && renamed is not null && digest is null)
                {
                    if (tag?.Templated == true) note = "-PinDigest: the tag is templated, so no digest was pinned";
                    else note = "-PinDigest: this entry has no digest key; add one (digest: \"\") to pin it";
                }
                else if (request.PinDigest && renamed is not null && digest is { Value.Length: 0 })
                {
                    result = result! with { Digest = await PinAsync(renamed with { Tag = tag?.Value }, token).ConfigureAwait(false) };
                    kustomizeEdits.Add(new Edit(digest, result.Digest!));
                }
                AddOrReport(site, kustomizeEdits, result?.ToString(), note);
            }

            void AddOrReport(ReferenceSite site, List<Edit> siteEdits, string? reference, string? note)
            {
                siteEdits.RemoveAll(e => e.NewValue == e.Field.Value);
                if (siteEdits.Count == 0) return;
                // An image is rewritten whole or not at all: half a split image would point at a repository nobody copied.
                var stuck = siteEdits.FirstOrDefault(e => !e.Field.Editable);
                if (stuck is not null)
                {
                    reports.Add(Report(file, site, stuck.Field, stuck.Field.Value, ImageReferenceAction.Skipped,
                        "names the old registry but is written with escapes or across lines, so it cannot be replaced in place; change it by hand", stuck.NewValue));
                    return;
                }
                foreach (var edit in siteEdits) edits.Add((edit, site, reference, note));
            }
        }

        private async Task<string> PinAsync(ImageReference destination, CancellationToken cancellationToken)
        {
            var digest = await owner.ResolveDigestAsync(destination, request.DestinationCredential, cancellationToken).ConfigureAwait(false);
            return digest ?? throw new HarborOpsException(CutOverErrorIds.PinTargetMissing, FailureKind.NotFound,
                $"-PinDigest: '{destination}' does not exist at the destination, so there is no digest to pin. Copy it first with Copy-RegistryImage, or run without -PinDigest.", destination.ToString());
        }

        private bool InScope(ImageReference reference) => InScope(reference.Registry, reference.Repository);

        private bool InScope(string registryOrHost, string? repository)
        {
            var registry = repository is null ? HostOf(registryOrHost) : registryOrHost;
            if (registry is null) return false;
            return scopes.Any(scope => scope.Registry == registry
                && (scope.Prefix.Length == 0 || (repository is not null && (repository == scope.Prefix || repository.StartsWith(scope.Prefix + "/", StringComparison.Ordinal)))));
        }

        private static string? HostOf(string registryValue)
        {
            var host = registryValue.Trim().TrimEnd('/');
            var slash = host.IndexOf('/');
            if (slash >= 0) host = host[..slash];
            try { return ImageReference.NormalizeRegistry(host); }
            catch (RegistryException) { return null; }
        }

        private static ImageReferenceChange Report(TextFile file, ReferenceSite site, ValueField field, string oldValue, ImageReferenceAction action, string note, string newValue = "")
        {
            var (line, column) = file.Position(field.Start);
            return new ImageReferenceChange
            {
                Path = file.Path, Line = line, Column = column, Kind = site.Form, Field = field.Name,
                OldValue = oldValue, NewValue = newValue, Action = action, Note = note,
            };
        }

        private static ImageReferenceFilePlan Build(TextFile file, List<(Edit Edit, ReferenceSite Site, string? Reference, string? Note)> edits, List<ImageReferenceChange> reports)
        {
            // A global registry shared by several split images is edited once.
            var unique = edits.GroupBy(e => e.Edit.Field.Start).Select(g =>
            {
                if (g.Select(e => e.Edit.NewValue).Distinct(StringComparer.Ordinal).Count() > 1)
                    throw new HarborOpsException(CutOverErrorIds.WriteFailed, FailureKind.InvalidData,
                        $"'{file.Path}' was not rewritten: the value '{g.First().Edit.Field.Value}' at line {file.Position(g.Key).Line} would need two different new values ({string.Join(", ", g.Select(e => e.Edit.NewValue).Distinct())}); change it by hand.", file.Path);
                return g.First();
            }).OrderBy(e => e.Edit.Field.Start).ToList();
            var changes = unique.Select(e =>
            {
                var (line, column) = file.Position(e.Edit.Field.Start);
                return new ImageReferenceChange
                {
                    Path = file.Path, Line = line, Column = column, Kind = e.Site.Form, Field = e.Edit.Field.Name,
                    OldValue = e.Edit.Field.Value, NewValue = e.Edit.NewValue, Action = ImageReferenceAction.Planned,
                    Reference = e.Reference, Note = e.Note,
                };
            }).Concat(reports).OrderBy(c => c.Line).ThenBy(c => c.Column).ToList();
            if (unique.Count == 0) return new ImageReferenceFilePlan(file.Path, changes, "", null, file, null);
            var position = 0;
            var length = file.Text.Length;
            foreach (var (edit, _, _, _) in unique)
            {
                if (edit.Field.Start < position)
                    throw new HarborOpsException(CutOverErrorIds.WriteFailed, FailureKind.InvalidData,
                        $"'{file.Path}' was not rewritten: two image values overlap at line {file.Position(edit.Field.Start).Line}; change it by hand.", file.Path);
                position = edit.Field.Start + edit.Field.Length;
                length += edit.NewValue.Length - edit.Field.Length;
            }
            // Written straight into a string of the final length: a StringBuilder and its ToString held the text twice.
            var newText = string.Create(length, (file.Text, Edits: unique.Select(e => e.Edit).ToList()), static (span, state) =>
            {
                var (old, edits) = state;
                var from = 0;
                foreach (var edit in edits)
                {
                    old.AsSpan(from, edit.Field.Start - from).CopyTo(span);
                    span = span[(edit.Field.Start - from)..];
                    edit.NewValue.AsSpan().CopyTo(span);
                    span = span[edit.NewValue.Length..];
                    from = edit.Field.Start + edit.Field.Length;
                }
                old.AsSpan(from).CopyTo(span);
            });
            return new ImageReferenceFilePlan(file.Path, changes, UnifiedDiff.Create(file.Path, file.Text, newText), null, file, newText);
        }
    }
}
