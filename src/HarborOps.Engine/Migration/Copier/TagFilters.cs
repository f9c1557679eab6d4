using System.Globalization;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Scope;

namespace HarborOps.Engine.Migration;

/// <summary>
/// The tag filters that look into an image: -Platform (an index keeps only matching children, written as a new index;
/// an image of another platform is skipped) and -Since (the newest config <c>created</c> of what is copied, or the time
/// a store's listing gives). Referrer tags follow their subject and are never filtered.
/// </summary>
internal sealed class TagFilters(CopyContext context, SourceReader source)
{
    private IReadOnlyList<PlatformFilter> Platforms => context.Platforms;
    private DateTimeOffset? Since => context.Request.Since;

    /// <summary>Whether the tag must be looked into at all (a referrer tag, or a -Since the listing answered, need not).</summary>
    public bool AppliesTo(TagJob job) =>
        job.Subject is null && (Platforms.Count > 0 || (Since is not null && ListedSinceTime(job) is null));

    /// <summary>
    /// Whether a tag the destination already has with this digest still needs the look: only an index -Platform would
    /// rewrite (the filters could otherwise only skip it).
    /// </summary>
    public bool MayRewrite(string mediaType) => Platforms.Count > 0 && MediaTypes.IsIndex(mediaType);

    /// <summary>The time -Since compares when the store's listing gives one (ACR's lastUpdateTime); null: read the image config.</summary>
    private DateTimeOffset? ListedSinceTime(TagJob job) =>
        job.Subject is null && Since is not null ? job.Work.Listed?.UpdatedOn ?? job.Work.Listed?.CreatedOn : null;

    /// <summary>
    /// What the listing alone decides for a tag, without a request: Failed when it is locked against reads, filtered out
    /// when older than -Since; null when the listing decides nothing.
    /// </summary>
    public TagDecision? DecideFromListing(TagJob job)
    {
        if (job.Work.Listed is not { } listed) return null;
        var plan = job.Plan;
        if (!listed.ReadEnabled)
        {
            (job.Digest, job.MediaType) = (listed.Manifest.Digest, listed.Manifest.MediaType);
            return TagDecision.Failed(new RegistryException(RegistryErrorIds.ReadDisabled, FailureKind.PermissionDenied,
                $"'{job.SourceName}' is locked against reads at the source (readEnabled is false), so it cannot be copied; the rest of the run goes on. To copy it, unlock it first (az acr repository update --name <registry> --image {plan.SourceRepository}:{job.Tag} --read-enabled true).",
                job.SourceName));
        }
        if (ListedSinceTime(job) is { } listedTime && listedTime < Since)
        {
            (job.Digest, job.MediaType) = (listed.Manifest.Digest, listed.Manifest.MediaType);
            // Its signatures sign an image the destination will not get: they stay behind too.
            foreach (var referrerTag in plan.ReferrerTagsOf(job.Digest)) plan.Claim(referrerTag);
            return TagDecision.FilteredOut($"last updated {listedTime:yyyy-MM-ddTHH:mm:ssK} (the registry's listing), before -Since {Since:yyyy-MM-ddTHH:mm:ssK}");
        }
        return null;
    }

    /// <summary>What the filters make of an image: the manifest to copy (or null and why it is skipped), and a note for its result.</summary>
    public sealed record Selection(ManifestContent? Manifest, string? SkipReason, string? Note);

    /// <summary>Applies -Platform and then -Since (unless the listing already answered it) to <paramref name="manifest"/>.</summary>
    public async Task<Selection> SelectAsync(TagJob job, ManifestContent manifest, CancellationToken cancellationToken)
    {
        var plan = job.Plan;
        string? note = null;
        if (Platforms.Count > 0)
        {
            if (manifest.IsIndex)
            {
                var kept = KeptChildren(manifest);
                var images = manifest.Manifests.Where(IsPlatformImage).ToList();
                if (kept.Count == 0)
                    return new Selection(null, $"no platform matches -Platform {string.Join(", ", Platforms)} (the index has {DescribePlatforms(images)})", null);
                if (kept.Count < manifest.Manifests.Count)
                {
                    manifest = FilteredIndex(manifest, kept, job.SourceName);
                    note = $"platforms filtered: kept {DescribePlatforms(kept.Where(IsPlatformImage))} of {DescribePlatforms(images)}, a new index digest";
                }
            }
            else if (manifest.Config is not null && IsImageConfig(manifest.Config.MediaType))
            {
                var config = await source.ConfigAsync(plan, manifest.Config, cancellationToken).ConfigureAwait(false);
                var platform = config is null ? null : ManifestContent.ReadConfigPlatform(config);
                // An image whose config names no platform is not filtered away: it cannot be said not to match.
                if (platform is not null && !Platforms.Any(p => p.Matches(platform)))
                    return new Selection(null, $"platform {platform} is not one of -Platform {string.Join(", ", Platforms)}", null);
            }
        }

        if (ListedSinceTime(job) is null && Since is { } since)
        {
            var created = await CreatedAsync(plan, manifest, cancellationToken).ConfigureAwait(false);
            if (created is null)
            {
                var unknown = $"creation time unknown (no image config records one), copied despite -Since {since:yyyy-MM-ddTHH:mm:ssK}";
                note = note is null ? unknown : $"{note}; {unknown}";
            }
            else if (created < since)
                return new Selection(null, $"created {created:yyyy-MM-ddTHH:mm:ssK}, before -Since {since:yyyy-MM-ddTHH:mm:ssK}", note);
        }
        return new Selection(manifest, null, note);
    }

    private static bool IsPlatformImage(OciDescriptor child) =>
        child.Platform is { Os.Length: > 0 } p && p.Os != "unknown";

    private static bool IsImageConfig(string mediaType) =>
        mediaType is MediaTypes.OciConfig or MediaTypes.DockerConfig;

    private static string DescribePlatforms(IEnumerable<OciDescriptor> children)
    {
        var names = children.Select(c => c.Platform!.ToString()).Distinct(StringComparer.Ordinal).ToList();
        return names.Count == 0 ? "no platforms" : string.Join(", ", names);
    }

    /// <summary>
    /// The children a -Platform filter keeps: the matching images, and the attestation manifests (buildx writes them
    /// as unknown/unknown children naming their image in vnd.docker.reference.digest) of those images.
    /// </summary>
    private List<OciDescriptor> KeptChildren(ManifestContent index)
    {
        var images = index.Manifests.Where(c => Platforms.Any(p => p.Matches(c.Platform)) && IsPlatformImage(c)).ToList();
        var keptDigests = images.Select(c => c.Digest).ToHashSet(StringComparer.Ordinal);
        return index.Manifests.Where(c => keptDigests.Contains(c.Digest)
            || (c.Annotations.TryGetValue("vnd.docker.reference.digest", out var of) && keptDigests.Contains(of))).ToList();
    }

    /// <summary>
    /// The index with only <paramref name="kept"/> in its manifests array; every other field and every kept entry is
    /// written exactly as the source had it.
    /// </summary>
    private static ManifestContent FilteredIndex(ManifestContent index, IReadOnlyList<OciDescriptor> kept, string sourceName)
    {
        var keep = kept.Select(c => c.Digest).ToHashSet(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(index.Bytes);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            writer.WriteStartObject();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name != "manifests")
                {
                    property.WriteTo(writer);
                    continue;
                }
                writer.WriteStartArray("manifests");
                foreach (var child in property.Value.EnumerateArray())
                    if (child.ValueKind == JsonValueKind.Object && child.TryGetProperty("digest", out var d) && d.ValueKind == JsonValueKind.String && keep.Contains(d.GetString()!))
                        child.WriteTo(writer);
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        return ManifestContent.Parse(buffer.ToArray(), index.MediaType, sourceName);
    }

    /// <summary>When the image was created as its config records it; for an index, its newest child's. Null when none says.</summary>
    private async Task<DateTimeOffset?> CreatedAsync(RepositoryPlan plan, ManifestContent manifest, CancellationToken cancellationToken)
    {
        if (manifest.IsIndex)
        {
            var times = await Task.WhenAll(manifest.Manifests.Where(IsPlatformImage).Select(async child =>
            {
                var image = await source.ManifestAsync(plan, child.Digest, cancellationToken).ConfigureAwait(false);
                return image.IsIndex ? null : await CreatedAsync(plan, image, cancellationToken).ConfigureAwait(false);
            })).ConfigureAwait(false);
            return times.Max();
        }
        if (manifest.Config is null || !IsImageConfig(manifest.Config.MediaType)) return null;
        var config = await source.ConfigAsync(plan, manifest.Config, cancellationToken).ConfigureAwait(false);
        return config is null ? null : ReadCreated(config);
    }

    private static DateTimeOffset? ReadCreated(byte[] config)
    {
        try
        {
            using var document = JsonDocument.Parse(config);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("created", out var created) || created.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParse(created.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
                return null;
            // cosign and some builders write year 1 for "no time"; that records nothing.
            return time.Year <= 1 ? null : time;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
