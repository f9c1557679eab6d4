using System.Text.RegularExpressions;
using HarborOps.Models;

namespace HarborOps.Engine.CutOver;

/// <summary>
/// Finds image references in text that is not YAML line by line: Dockerfiles (FROM, COPY --from, ARG defaults naming a
/// registry image) and Helm chart templates, which are Go templates whose image: lines are read as "key: value".
/// </summary>
internal static class LineReferenceFinder
{
    private static readonly Regex KeyLine = new(@"^[ \t]*(?:-[ \t]+)?(?<key>[A-Za-z0-9_]+)[ \t]*:[ \t]+(?<rest>\S.*)$", RegexOptions.CultureInvariant);
    private static readonly Regex FromLine = new(@"^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*(?<image>[^\s#]\S*)(?:[ \t]+AS[ \t]+(?<stage>\S+))?[ \t]*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex CopyFromLine = new(@"^[ \t]*COPY[ \t]+(?:--\S+[ \t]+)*?--from=(?<image>\S+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex ArgLine = new(@"^[ \t]*ARG[ \t]+(?<name>[A-Za-z_][A-Za-z0-9_]*)=(?<quote>[""']?)(?<image>[^\s""']+)\k<quote>[ \t]*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>image: lines (and other *Image keys) of a chart template, or of inline values that do not parse as YAML.</summary>
    public static IEnumerable<ReferenceSite> FindInTemplate(TextFile file, int firstLine, int lastLine, ImageReferenceForm form)
    {
        for (var line = firstLine; line <= lastLine && line < file.LineCount; line++)
        {
            var text = file.LineText(line);
            var match = KeyLine.Match(text);
            if (!match.Success) continue;
            var key = match.Groups["key"].Value;
            if (!YamlReferenceFinder.IsImageKey(key)) continue;
            var rest = match.Groups["rest"];
            var (offset, length, editable) = ValueOf(rest.Value);
            if (length == 0) continue;
            var value = rest.Value.Substring(offset, length);
            var templated = value.Contains("{{", StringComparison.Ordinal);
            if (!templated && !YamlReferenceFinder.LooksLikeReference(value, needsShape: key != "image")) continue;
            var name = $"{key} (line {line + 1})";
            yield return new ReferenceSite(form, name,
                [new ValueField(FieldRole.Full, name, value, file.LineStart(line) + rest.Index + offset, editable ? length : 0, editable, templated)]);
        }
    }

    /// <summary>
    /// FROM images (not earlier stages, not scratch), COPY --from images, and ARG defaults that name an image with a
    /// registry host (the usual "ARG BASE=registry/base:1" before "FROM ${BASE}"). $variables are templated.
    /// </summary>
    public static IEnumerable<ReferenceSite> FindInDockerfile(TextFile file)
    {
        var stages = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var line = 0; line < file.LineCount; line++)
        {
            var text = file.LineText(line);
            Group? image = null;
            string field;
            var from = FromLine.Match(text);
            if (from.Success)
            {
                image = from.Groups["image"];
                field = "FROM";
                var isStage = stages.Contains(image.Value) || image.Value.Equals("scratch", StringComparison.OrdinalIgnoreCase);
                if (from.Groups["stage"].Success) stages.Add(from.Groups["stage"].Value);
                if (isStage) continue;
            }
            else if (CopyFromLine.Match(text) is { Success: true } copy)
            {
                image = copy.Groups["image"];
                field = "COPY --from";
                if (stages.Contains(image.Value) || image.Value.All(char.IsAsciiDigit) || image.Value.IndexOfAny(['/', ':', '@', '$']) < 0) continue;
            }
            else if (ArgLine.Match(text) is { Success: true } arg && ReferenceSite.NamesHost(arg.Groups["image"].Value))
            {
                image = arg.Groups["image"];
                field = $"ARG {arg.Groups["name"].Value}";
            }
            else continue;
            var templated = image.Value.Contains('$');
            if (!templated && !YamlReferenceFinder.LooksLikeReference(image.Value, needsShape: false)) continue;
            var name = $"{field} (line {line + 1})";
            yield return new ReferenceSite(ImageReferenceForm.Dockerfile, name,
                [new ValueField(FieldRole.Full, name, image.Value, file.LineStart(line) + image.Index, image.Length, Editable: true, templated)]);
        }
    }

    /// <summary>The value inside its quotes, or before a trailing comment; editable when written without escapes.</summary>
    private static (int Offset, int Length, bool Editable) ValueOf(string rest)
    {
        if (rest[0] is '"' or '\'')
        {
            var close = rest.IndexOf(rest[0], 1);
            if (close < 0) return (0, 0, false);
            var inner = rest[1..close];
            return (1, close - 1, !(rest[0] == '"' && inner.Contains('\\')));
        }
        var comment = rest.IndexOf(" #", StringComparison.Ordinal);
        var value = (comment < 0 ? rest : rest[..comment]).TrimEnd();
        return (0, value.Length, true);
    }
}
