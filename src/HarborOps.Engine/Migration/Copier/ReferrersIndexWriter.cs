using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Migration;

/// <summary>
/// The destination's tag-schema referrers index (the <c>sha256-&lt;hex&gt;</c> tag), kept up to date for a destination
/// without the referrers API when the source had no such index to copy byte for byte: whether the destination answers
/// the API, which entries its index lists now, and writing the index anew.
/// </summary>
internal sealed class ReferrersIndexWriter(CopyContext context, CopyTally tally)
{
    private readonly ReferrersApiProbe _destinationReferrersApi = new();

    /// <summary>The entries of a tag-schema referrers index at the destination (none when it has no such tag).</summary>
    public sealed record IndexedReferrers(IReadOnlyList<OciDescriptor> Entries);

    public Task<bool> DestinationHasReferrersApiAsync(RepositoryPlan plan, string digest, CancellationToken cancellationToken) =>
        _destinationReferrersApi.HasApiAsync(() =>
            context.AtDestinationAsync(() => context.DestinationStore.GetReferrersAsync(plan.DestinationRepository, digest, null, cancellationToken), cancellationToken), cancellationToken);

    public async Task<IndexedReferrers> ReadAsync(RepositoryPlan plan, string subject, CancellationToken cancellationToken)
    {
        var tag = Digests.ToTagSchemaTag(subject);
        // The destination's tag list (read at the start, and the index is only ever written by its subject's walk)
        // already says whether there is an index to read.
        if (plan.DestinationIsNew || plan.DestinationTags is { } tags && !tags.Contains(tag)) return new IndexedReferrers([]);
        try
        {
            var existing = await context.AtDestinationAsync(() => context.DestinationStore.GetManifestAsync(plan.DestinationRepository, tag, cancellationToken), cancellationToken).ConfigureAwait(false);
            return new IndexedReferrers(existing.IsIndex ? existing.Manifests : []);
        }
        catch (RegistryException ex) when (ex.ErrorId is RegistryErrorIds.ManifestNotFound or RegistryErrorIds.RepositoryNotFound)
        {
            return new IndexedReferrers([]);
        }
    }

    public async Task WriteAsync(RepositoryPlan plan, string subject, IReadOnlyList<OciDescriptor> entries, CancellationToken cancellationToken)
    {
        var destination = context.DestinationStore;
        var tag = Digests.ToTagSchemaTag(subject);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", 2);
            writer.WriteString("mediaType", MediaTypes.OciIndex);
            writer.WriteStartArray("manifests");
            foreach (var entry in entries) OciDescriptorJson.Write(writer, entry);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        var target = destination.ItemName(plan.DestinationRepository, tag);
        var index = ManifestContent.Parse(buffer.ToArray(), MediaTypes.OciIndex, target);
        await context.AtDestinationAsync(() => destination.PutManifestAsync(plan.DestinationRepository, tag, index, cancellationToken), cancellationToken).ConfigureAwait(false);
        tally.ManifestWritten();
    }

    /// <summary>A failure reading or writing the index of <paramref name="digest"/>: reported for the index, the referrers stay copied.</summary>
    public void EmitFailure(RepositoryPlan plan, string digest, HarborOpsException ex) =>
        tally.EmitFailure(plan.Source.ItemName(plan.SourceRepository, digest) + " (referrers index)",
            context.DestinationStore.ItemName(plan.DestinationRepository, Digests.ToTagSchemaTag(digest)), plan.SourceRepository, plan.DestinationRepository, ex, digest);
}
