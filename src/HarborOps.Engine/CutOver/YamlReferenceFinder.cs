using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Models;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace HarborOps.Engine.CutOver;

/// <summary>
/// Finds image references in a YAML file (every document of it) with the exact character span of each value:
/// Kubernetes objects of any kind (containers, init and ephemeral containers wherever a pod template sits, and other
/// image fields), kustomizations, ArgoCD Applications and ApplicationSets (Helm parameters, inline values and
/// valuesObject), and anything else read as Helm values (image strings and split registry/repository/tag/digest maps at
/// any depth, under global.imageRegistry).
/// </summary>
internal sealed class YamlReferenceFinder
{
    private static readonly HashSet<string> ContainerListKeys = new(StringComparer.Ordinal) { "containers", "initContainers", "ephemeralContainers" };
    private static readonly HashSet<string> KustomizationFileNames = new(StringComparer.Ordinal) { "kustomization.yaml", "kustomization.yml", "Kustomization" };

    private readonly TextFile _file;
    private readonly List<ReferenceSite> _sites = [];
    // An alias visits its anchored node again; one value is one reference.
    private readonly HashSet<int> _seenStarts = [];

    private YamlReferenceFinder(TextFile file) => this._file = file;

    /// <summary>Where one parse's marks land in the file: the identity, or the lines of a block scalar parsed on its own.</summary>
    private delegate int PositionMap(Mark mark);

    /// <summary>The scope a walk runs in: which forms its references get and the chart's global registry.</summary>
    private sealed record Scope(ImageReferenceForm ValueForm, ImageReferenceForm SplitForm, bool Kubernetes, ValueField? GlobalRegistry, PositionMap Map);

    public static IReadOnlyList<ReferenceSite> Find(TextFile file)
    {
        var finder = new YamlReferenceFinder(file);
        var isKustomization = KustomizationFileNames.Contains(Path.GetFileName(file.Path));
        // One document's nodes at a time: a node tree costs many times its text, and a rendered chart or a big
        // multi-document manifest held whole took gigabytes.
        foreach (var root in Documents(file))
            finder.Document(root, isKustomization, mark => (int)mark.Index);
        return finder._sites;
    }

    private static IEnumerable<YamlNode> Documents(TextFile file)
    {
        var parser = new Parser(new StringReader(file.Text));
        while (true)
        {
            YamlStream? one;
            try
            {
                one = OneDocumentParser.Next(parser);
            }
            catch (YamlException ex)
            {
                throw Malformed(file.Path, ex);
            }
            if (one is null) yield break;
            yield return one.Documents[0].RootNode;
        }
    }

    /// <summary>True for keys whose scalar value is a whole image reference: image, and camelCase or snake_case names ending in it.</summary>
    internal static bool IsImageKey(string key) =>
        key == "image" || (key.Length > 5 && key.EndsWith("Image", StringComparison.Ordinal)) || key.EndsWith("_image", StringComparison.Ordinal);

    private static YamlStream Load(string text, string path, bool inner)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            if (inner) throw;
            throw Malformed(path, ex);
        }
        return stream;
    }

    private static HarborOpsException Malformed(string path, YamlException ex) =>
        new(CutOverErrorIds.FileMalformed, FailureKind.InvalidData,
            $"'{path}' is not valid YAML (line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}); it was skipped and not changed. Fix the YAML, or leave the file out with -Exclude.", path, ex);

    private void Document(YamlNode root, bool isKustomization, PositionMap map)
    {
        if (root is not YamlMappingNode mapping)
        {
            Walk(root, "", ValuesScope(null, map), null);
            return;
        }
        var apiVersion = ScalarValue(mapping, "apiVersion");
        var kind = ScalarValue(mapping, "kind");
        if (kind == "Kustomization" || (isKustomization && kind is null))
            Kustomization(mapping, map);
        else if (apiVersion is not null && apiVersion.StartsWith("argoproj.io/", StringComparison.Ordinal) && kind is "Application" or "ApplicationSet")
            ArgoApplication(mapping, kind == "ApplicationSet", map);
        else if (apiVersion is not null && kind is not null)
            Walk(mapping, "", new Scope(ImageReferenceForm.Manifest, ImageReferenceForm.Manifest, Kubernetes: true, null, map), null);
        else
            HelmValues(mapping, "", ImageReferenceForm.HelmValue, ImageReferenceForm.HelmSplit, map);
    }

    private Scope ValuesScope(ValueField? global, PositionMap map) =>
        new(ImageReferenceForm.HelmValue, ImageReferenceForm.HelmSplit, Kubernetes: false, global, map);

    private void HelmValues(YamlMappingNode values, string path, ImageReferenceForm valueForm, ImageReferenceForm splitForm, PositionMap map)
    {
        ValueField? global = null;
        if (Child(values, "global") is YamlMappingNode globals && Child(globals, "imageRegistry") is YamlScalarNode registry && !IsNull(registry))
        {
            global = Field(registry, FieldRole.GlobalRegistry, Join(path, "global.imageRegistry"), map);
            if (global is not null)
                Add(new ReferenceSite(ImageReferenceForm.HelmGlobalRegistry, global.Name, [global]));
        }
        Walk(values, path, new Scope(valueForm, splitForm, Kubernetes: false, global, map), null);
    }

    private void Walk(YamlNode node, string path, Scope scope, string? listKey)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (keyNode, value) in mapping.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { } key }) continue;
                    var childPath = Join(path, key);
                    if (value is YamlScalarNode scalar && IsImageKey(key))
                    {
                        var form = scope.Kubernetes ? listKey is not null && ContainerListKeys.Contains(listKey) ? ImageReferenceForm.Container : ImageReferenceForm.Manifest : scope.ValueForm;
                        WholeReference(scalar, form, childPath, needsShape: key != "image", scope.Map);
                    }
                    else if (value is YamlMappingNode map && SplitRepository(key, map) is { } repository)
                        Split(map, repository, childPath, scope);
                    else if (value is YamlMappingNode registryOnly && IsImageKey(key) && Child(registryOnly, "registry") is YamlScalarNode registry && !IsNull(registry))
                    {
                        // An override file that moves only the registry (image: {registry: ...}); the repository is elsewhere.
                        if (Field(registry, FieldRole.Registry, Join(childPath, "registry"), scope.Map) is { } field)
                            Add(new ReferenceSite(scope.SplitForm, childPath, [field]));
                    }
                    else if (value is YamlSequenceNode sequence)
                        for (var i = 0; i < sequence.Children.Count; i++)
                            Walk(sequence.Children[i], $"{childPath}[{i}]", scope, key);
                    else
                        Walk(value, childPath, scope, null);
                }
                break;
            case YamlSequenceNode list:
                for (var i = 0; i < list.Children.Count; i++)
                    Walk(list.Children[i], $"{path}[{i}]", scope, listKey);
                break;
        }
    }

    /// <summary>
    /// The repository value of a split image map ({registry, repository, tag, digest}, or ingress-nginx's {registry, image,
    /// tag}), or null when the map is something else (a Helm chart repository has a URL and no tag).
    /// </summary>
    private static YamlScalarNode? SplitRepository(string key, YamlMappingNode map)
    {
        var repository = Child(map, "repository") as YamlScalarNode;
        if (repository is null && Child(map, "registry") is YamlScalarNode && Child(map, "image") is YamlScalarNode image)
            repository = image;
        if (repository is null || IsNull(repository) || repository.Value!.Contains("://", StringComparison.Ordinal)) return null;
        var looksLikeImage = key.Contains("image", StringComparison.OrdinalIgnoreCase)
            || Child(map, "registry") is not null || Child(map, "tag") is not null || Child(map, "digest") is not null;
        return looksLikeImage ? repository : null;
    }

    private void Split(YamlMappingNode map, YamlScalarNode repository, string path, Scope scope)
    {
        var fields = new List<ValueField>();
        void AddPart(YamlNode? node, FieldRole role, string key)
        {
            if (node is YamlScalarNode scalar && !IsNull(scalar) && Field(scalar, role, Join(path, key), scope.Map) is { } field)
                fields.Add(field);
        }
        AddPart(Child(map, "registry"), FieldRole.Registry, "registry");
        AddPart(repository, FieldRole.Repository, ReferenceEquals(repository, Child(map, "image")) ? "image" : "repository");
        AddPart(Child(map, "tag"), FieldRole.Tag, "tag");
        AddPart(Child(map, "digest"), FieldRole.Digest, "digest");
        if (fields.All(f => f.Role != FieldRole.Repository)) return;
        if (scope.GlobalRegistry is not null) fields.Add(scope.GlobalRegistry);
        Add(new ReferenceSite(scope.SplitForm, path, fields));
    }

    private void WholeReference(YamlScalarNode scalar, ImageReferenceForm form, string path, bool needsShape, PositionMap map)
    {
        if (IsNull(scalar)) return;
        var field = Field(scalar, FieldRole.Full, path, map);
        if (field is null || !(field.Templated || LooksLikeReference(field.Value, needsShape))) return;
        Add(new ReferenceSite(form, path, [field]));
    }

    /// <summary>
    /// A value under "image" is a reference when it parses as one ("nginx" is Docker Hub's); under other keys ending in
    /// Image it must also show a path, tag or digest, so a flag like pullImage: true is not taken for Docker Hub's "true".
    /// </summary>
    internal static bool LooksLikeReference(string value, bool needsShape) =>
        ImageReference.TryParse(value, out _) && !value.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.OrdinalIgnoreCase)
        && (!needsShape || value.IndexOfAny(['/', ':', '@']) >= 0);

    private void Kustomization(YamlMappingNode root, PositionMap map)
    {
        if (Child(root, "images") is YamlSequenceNode images)
        {
            for (var i = 0; i < images.Children.Count; i++)
            {
                if (images.Children[i] is not YamlMappingNode entry) continue;
                var path = $"images[{i}]";
                var fields = new List<ValueField>();
                foreach (var (key, role) in new[] { ("name", FieldRole.KustomizeName), ("newName", FieldRole.KustomizeNewName), ("newTag", FieldRole.Tag), ("digest", FieldRole.Digest) })
                    if (Child(entry, key) is YamlScalarNode scalar && !IsNull(scalar) && Field(scalar, role, $"{path}.{key}", map) is { } field)
                        fields.Add(field);
                if (fields.Any(f => f.Role is FieldRole.KustomizeName or FieldRole.KustomizeNewName))
                    Add(new ReferenceSite(ImageReferenceForm.Kustomize, path, fields));
            }
        }
        if (Child(root, "helmCharts") is YamlSequenceNode charts)
            for (var i = 0; i < charts.Children.Count; i++)
                if (charts.Children[i] is YamlMappingNode chart && Child(chart, "valuesInline") is YamlMappingNode inline)
                    HelmValues(inline, $"helmCharts[{i}].valuesInline", ImageReferenceForm.HelmValue, ImageReferenceForm.HelmSplit, map);
    }

    private void ArgoApplication(YamlMappingNode root, bool isApplicationSet, PositionMap map)
    {
        var spec = Child(root, "spec") as YamlMappingNode;
        var prefix = "spec";
        if (isApplicationSet)
        {
            spec = Child(spec, "template") is YamlMappingNode template ? Child(template, "spec") as YamlMappingNode : null;
            prefix = "spec.template.spec";
        }
        if (spec is null) return;
        if (Child(spec, "source") is YamlMappingNode source)
            ArgoSource(source, $"{prefix}.source", map);
        if (Child(spec, "sources") is YamlSequenceNode sources)
            for (var i = 0; i < sources.Children.Count; i++)
                if (sources.Children[i] is YamlMappingNode each)
                    ArgoSource(each, $"{prefix}.sources[{i}]", map);
    }

    private void ArgoSource(YamlMappingNode source, string path, PositionMap map)
    {
        if (Child(source, "kustomize") is YamlMappingNode kustomize && Child(kustomize, "images") is YamlSequenceNode images)
            ArgoKustomizeImages(images, $"{path}.kustomize.images", map);
        if (Child(source, "helm") is not YamlMappingNode helm) return;
        path += ".helm";
        if (Child(helm, "parameters") is YamlSequenceNode parameters)
            ArgoParameters(parameters, $"{path}.parameters", map);
        if (Child(helm, "valuesObject") is YamlMappingNode valuesObject)
            HelmValues(valuesObject, $"{path}.valuesObject", ImageReferenceForm.ArgoValues, ImageReferenceForm.ArgoValues, map);
        if (Child(helm, "values") is YamlScalarNode { Value.Length: > 0 } values)
            InlineValues(values, $"{path}.values", map);
    }

    /// <summary>
    /// Argo's kustomize image overrides are strings: "registry/repo:tag" (an override of the image of that name) or
    /// "name=registry/repo:tag". Each side of the '=' is a reference of its own within the one string.
    /// </summary>
    private void ArgoKustomizeImages(YamlSequenceNode images, string path, PositionMap map)
    {
        for (var i = 0; i < images.Children.Count; i++)
        {
            if (images.Children[i] is not YamlScalarNode scalar || IsNull(scalar)) continue;
            var name = $"{path}[{i}]";
            if (Field(scalar, FieldRole.Full, name, map) is not { } whole) continue;
            var equals = whole.Value.IndexOf('=');
            if (equals < 0)
            {
                if (whole.Templated || LooksLikeReference(whole.Value, needsShape: false))
                    Add(new ReferenceSite(ImageReferenceForm.Kustomize, name, [whole]));
                continue;
            }
            var matched = whole with { Role = FieldRole.KustomizeName, Name = name + " (name)", Value = whole.Value[..equals], Length = whole.Editable ? equals : 0, Templated = whole.Value[..equals].Contains("{{", StringComparison.Ordinal) };
            var replacement = whole with { Name = name + " (new)", Value = whole.Value[(equals + 1)..], Start = whole.Start + equals + 1, Length = whole.Editable ? whole.Length - equals - 1 : 0, Templated = whole.Value[(equals + 1)..].Contains("{{", StringComparison.Ordinal) };
            Add(new ReferenceSite(ImageReferenceForm.Kustomize, matched.Name, [matched]));
            if (replacement.Templated || LooksLikeReference(replacement.Value, needsShape: false))
                Add(new ReferenceSite(ImageReferenceForm.Kustomize, replacement.Name, [replacement]));
        }
    }

    /// <summary>
    /// Helm parameters name values by dotted path: image (a whole reference), image.registry/repository/tag/digest (one
    /// split image per prefix) and global.imageRegistry.
    /// </summary>
    private void ArgoParameters(YamlSequenceNode parameters, string path, PositionMap map)
    {
        var groups = new Dictionary<string, List<ValueField>>(StringComparer.Ordinal);
        ValueField? global = null;
        for (var i = 0; i < parameters.Children.Count; i++)
        {
            if (parameters.Children[i] is not YamlMappingNode parameter
                || Child(parameter, "name") is not YamlScalarNode { Value: { Length: > 0 } name }
                || Child(parameter, "value") is not YamlScalarNode value || IsNull(value)) continue;
            var fieldPath = $"{path}[{i}] {name}";
            var dot = name.LastIndexOf('.');
            var last = name[(dot + 1)..];
            var group = dot < 0 ? "" : name[..dot];
            if (name == "global.imageRegistry")
            {
                global = Field(value, FieldRole.GlobalRegistry, fieldPath, map);
                if (global is not null) Add(new ReferenceSite(ImageReferenceForm.HelmGlobalRegistry, fieldPath, [global]));
            }
            else if (last is "registry" or "repository" or "tag" or "digest")
            {
                var role = last switch { "registry" => FieldRole.Registry, "repository" => FieldRole.Repository, "tag" => FieldRole.Tag, _ => FieldRole.Digest };
                if (Field(value, role, fieldPath, map) is { } field)
                {
                    if (!groups.TryGetValue(group, out var list)) groups[group] = list = [];
                    list.Add(field);
                }
            }
            else if (IsImageKey(last))
                WholeReference(value, ImageReferenceForm.ArgoParameter, fieldPath, needsShape: last != "image", map);
        }
        foreach (var (group, fields) in groups)
        {
            if (fields.All(f => f.Role is not (FieldRole.Repository or FieldRole.Registry))) continue;
            // image.registry without image.repository overrides only the registry of the chart's own values.
            if (global is not null && fields.Any(f => f.Role == FieldRole.Repository)) fields.Add(global);
            Add(new ReferenceSite(ImageReferenceForm.ArgoParameter, $"{path} {group}", fields));
        }
    }

    /// <summary>
    /// Inline values are YAML inside a string. A literal block (values: |) keeps its lines, so the inner document's marks
    /// map back to the file line by line, shifted by the block's indentation. When the inner text does not parse (an
    /// ApplicationSet's Go templates), its image: lines are read like a chart template's.
    /// </summary>
    private void InlineValues(YamlScalarNode values, string path, PositionMap outerMap)
    {
        var headerIndex = outerMap(values.Start);
        if (headerIndex < 0) return;
        var headerLine = _file.Position(headerIndex).Line - 1;
        var indent = values.Style == ScalarStyle.Literal ? BlockIndent(headerLine + 1) : -1;
        PositionMap map = indent < 0
            ? _ => -1 // a quoted or folded string: its references are reported, never rewritten in place
            : mark =>
            {
                var line = headerLine + (int)mark.Line;
                return line < _file.LineCount ? _file.LineStart(line) + indent + (int)mark.Column - 1 : -1;
            };
        YamlStream inner;
        try
        {
            inner = Load(values.Value!, _file.Path, inner: true);
        }
        catch (YamlException)
        {
            if (indent < 0) return;
            var lastLine = _file.Position(Math.Max(headerIndex, outerMap(values.End) - 1)).Line - 1;
            foreach (var site in LineReferenceFinder.FindInTemplate(_file, headerLine + 1, lastLine, ImageReferenceForm.ArgoValues))
                Add(site);
            return;
        }
        foreach (var document in inner.Documents)
            if (document.RootNode is YamlMappingNode root)
                HelmValues(root, path, ImageReferenceForm.ArgoValues, ImageReferenceForm.ArgoValues, map);
    }

    private int BlockIndent(int firstLine)
    {
        for (var line = firstLine; line < _file.LineCount; line++)
        {
            var text = _file.LineText(line);
            if (text.Trim().Length == 0) continue;
            return text.Length - text.TrimStart(' ').Length;
        }
        return -1;
    }

    private ValueField? Field(YamlScalarNode scalar, FieldRole role, string name, PositionMap map)
    {
        var value = scalar.Value ?? "";
        var start = map(scalar.Start);
        var end = map(scalar.End);
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted && start >= 0 && end > start)
        {
            start++;
            end--;
        }
        var editable = scalar.Style is ScalarStyle.Plain or ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted
            && start >= 0 && end >= start && end <= _file.Text.Length
            && _file.Text.AsSpan(start, end - start).SequenceEqual(value);
        if (start < 0) start = Math.Max(0, map(scalar.Start));
        if (start >= 0 && !_seenStarts.Add(start) && editable && role != FieldRole.GlobalRegistry) return null;
        return new ValueField(role, name, value, Math.Max(0, start), editable ? end - start : 0, editable, value.Contains("{{", StringComparison.Ordinal));
    }

    private void Add(ReferenceSite site) => _sites.Add(site);

    private static YamlNode? Child(YamlMappingNode? map, string key) =>
        map is not null && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static string? ScalarValue(YamlMappingNode map, string key) => (Child(map, key) as YamlScalarNode)?.Value;

    private static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style == ScalarStyle.Plain && (string.IsNullOrEmpty(scalar.Value) || scalar.Value is "~" or "null" or "Null" or "NULL");

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
