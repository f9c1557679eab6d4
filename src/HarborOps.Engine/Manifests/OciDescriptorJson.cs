using System.Text.Json;

namespace HarborOps.Engine.Manifests;

/// <summary>
/// A descriptor as an OCI index lists it: the same fields in the same order wherever this engine writes an index (a
/// layout's index.json, a referrers index under the tag schema), annotations sorted so that equal content hashes equal.
/// </summary>
internal static class OciDescriptorJson
{
    public static void Write(Utf8JsonWriter writer, OciDescriptor d)
    {
        writer.WriteStartObject();
        writer.WriteString("mediaType", d.MediaType);
        writer.WriteString("digest", d.Digest);
        writer.WriteNumber("size", d.Size);
        if (d.ArtifactType is { Length: > 0 }) writer.WriteString("artifactType", d.ArtifactType);
        if (d.Platform is { } p)
        {
            writer.WriteStartObject("platform");
            writer.WriteString("architecture", p.Architecture);
            writer.WriteString("os", p.Os);
            if (p.Variant is { Length: > 0 }) writer.WriteString("variant", p.Variant);
            if (p.OsVersion is { Length: > 0 }) writer.WriteString("os.version", p.OsVersion);
            writer.WriteEndObject();
        }
        if (d.Annotations.Count > 0)
        {
            writer.WriteStartObject("annotations");
            foreach (var (k, v) in d.Annotations.OrderBy(a => a.Key, StringComparer.Ordinal)) writer.WriteString(k, v);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }
}
