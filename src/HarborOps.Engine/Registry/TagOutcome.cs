using System.Runtime.ExceptionServices;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Models;

namespace HarborOps.Engine.Registry;

/// <summary>
/// One tag of a repository listing: what was read about it, or the failure that is that tag's alone. While a listing
/// walks a repository, what one tag's registry data does (a malformed name or manifest, a 5xx after the retries) must
/// not end the walk for every other tag; a tag deleted since the tag list was read is simply gone.
/// </summary>
internal readonly record struct TagOutcome(RegistryTagInfo? Info, HarborOpsException? Failure)
{
    public static async Task<TagOutcome> Of(Func<Task<RegistryTagInfo?>> describe, string tag, string repository, bool walking)
    {
        // A name the tag list sent is checked before any request could carry it (a tag the user typed already was).
        if (walking && ManifestChecks.InvalidTag(tag, repository) is { } invalid) return new(null, invalid);
        try
        {
            return new(await describe().ConfigureAwait(false), null);
        }
        catch (RegistryException ex) when (walking && ex.ErrorId == RegistryErrorIds.ManifestNotFound)
        {
            return new(null, null);
        }
        catch (HarborOpsException ex) when (walking && !ex.IsTerminating)
        {
            return new(null, ex);
        }
    }

    /// <summary>The tag's details; a failure goes to <paramref name="onFailure"/>, or, with none, ends the listing as before.</summary>
    public RegistryTagInfo? Take(Action<HarborOpsException>? onFailure)
    {
        if (Failure is null) return Info;
        if (onFailure is null) ExceptionDispatchInfo.Throw(Failure);
        onFailure(Failure);
        return null;
    }
}
