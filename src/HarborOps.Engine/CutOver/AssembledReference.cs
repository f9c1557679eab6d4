using HarborOps.Engine.References;
using HarborOps.Models;

namespace HarborOps.Engine.CutOver;

/// <summary>
/// What a site's values add up to: the reference as written (split parts joined), the parsed reference, and its
/// identity (registry and repository only), which is known even when only the tag is templated.
/// </summary>
internal sealed record AssembledReference(string Text, ImageReference? Reference, ImageReference? Identity, bool Templated)
{
    public static AssembledReference Of(ReferenceSite site)
    {
        var tag = site.Get(FieldRole.Tag);
        var digest = site.Get(FieldRole.Digest);
        string name;
        bool nameTemplated;
        if (site.Get(FieldRole.Full) is { } full)
        {
            name = full.Value;
            nameTemplated = full.Templated;
        }
        else if (site.Form == ImageReferenceForm.Kustomize)
        {
            var kustomized = site.Get(FieldRole.KustomizeNewName) ?? site.Get(FieldRole.KustomizeName)!;
            name = kustomized.Value;
            nameTemplated = kustomized.Templated;
        }
        else if (site.Get(FieldRole.Repository) is { } repository)
        {
            var registry = site.EffectiveRegistry;
            name = registry is null ? repository.Value : $"{registry.Value.TrimEnd('/')}/{repository.Value}";
            nameTemplated = repository.Templated || registry?.Templated == true;
        }
        else
        {
            // global.imageRegistry alone names a registry, not an image.
            var registry = site.Fields[0];
            return new AssembledReference(registry.Value, null, null, registry.Templated);
        }

        var text = name;
        if (tag is { Value.Length: > 0 }) text += ":" + tag.Value;
        if (digest is { Value.Length: > 0 }) text += "@" + digest.Value;
        var templated = nameTemplated || tag?.Templated == true || digest?.Templated == true;
        var identity = nameTemplated ? null : IdentityOf(name);
        ImageReference? reference = null;
        if (!templated && ImageReference.TryParse(text, out var parsed)) reference = parsed;
        return new AssembledReference(text, reference, identity, templated);
    }

    /// <summary>"registry/repository" of a name that may carry its own tag or digest.</summary>
    private static ImageReference? IdentityOf(string name) =>
        ImageReference.TryParse(name, out var parsed) && parsed!.Kind == ImageReferenceKind.Registry ? parsed with { Tag = null, Digest = null } : null;

    public ImageReferenceInfo ToInfo(TextFile file, ReferenceSite site)
    {
        var (line, column) = file.Position(site.Primary.Start);
        return new ImageReferenceInfo
        {
            Path = file.Path,
            Line = line,
            Column = column,
            Kind = site.Form,
            Field = site.Field,
            Text = Text,
            Reference = Reference?.ToString(),
            Registry = Reference?.Registry ?? Identity?.Registry,
            Repository = Reference?.Repository ?? Identity?.Repository,
            Tag = Reference?.Tag,
            Digest = Reference?.Digest,
            Templated = Templated,
        };
    }
}
