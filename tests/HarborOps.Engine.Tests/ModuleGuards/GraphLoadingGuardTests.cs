using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using HarborOps.Engine.Entra;
using Xunit;

namespace HarborOps.Engine.Tests.ModuleGuards;

/// <summary>
/// Microsoft.Graph (47 MB) must load only when an Entra cmdlet runs. The runtime loads an assembly when a type whose
/// layout or signature needs it is loaded, so Graph and Kiota types may appear in the signatures and fields of
/// EntraDirectory alone, and cmdlets may hold Entra engine types in no field or property (those load at import).
/// The fresh-pwsh test in tests/pester/LoadContext.Tests.ps1 checks the behaviour; this names the culprit.
/// </summary>
public sealed class GraphLoadingGuardTests
{
    private static readonly string[] GraphAssemblyPrefixes = ["Microsoft.Graph", "Microsoft.Kiota", "Std.UriTemplate"];

    [Fact]
    public void Only_EntraDirectory_mentions_Graph_or_Kiota_types_in_its_shape()
    {
        var offenders = typeof(EntraDirectory).Assembly.GetTypes()
            .Where(type => !IsOrIsNestedIn(type, typeof(EntraDirectory)))
            .SelectMany(type => ShapeTypes(type).Where(IsGraphType).Select(graph => $"{type.FullName} uses {graph.FullName}"))
            .Distinct()
            .ToList();
        Assert.True(offenders.Count == 0, "Graph types outside EntraDirectory load Microsoft.Graph with them: " + string.Join("; ", offenders));
    }

    [Fact]
    public void The_guard_sees_Graph_types_where_they_are()
    {
        Assert.Contains(ShapeTypes(typeof(EntraDirectory)), IsGraphType);
    }

    [Fact]
    public void No_cmdlet_field_or_property_has_an_Entra_engine_type()
    {
        // Read from metadata: HarborOps.dll needs System.Management.Automation, which the tests do not have to load it.
        var path = Path.Combine(AppContext.BaseDirectory, "HarborOps.dll");
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var names = new TypeNameProvider();
        var offenders = new List<string>();
        foreach (var typeHandle in metadata.TypeDefinitions)
        {
            var type = metadata.GetTypeDefinition(typeHandle);
            var owner = metadata.GetString(type.Namespace) + "." + metadata.GetString(type.Name);
            // Async state machines and closures load when their method runs, not at import.
            if (type.GetDeclaringType() is { IsNil: false } && metadata.GetString(type.Name).Contains('<', StringComparison.Ordinal)) continue;
            foreach (var fieldHandle in type.GetFields())
            {
                var field = metadata.GetFieldDefinition(fieldHandle);
                if (field.DecodeSignature(names, null).Contains(EntraNamespace, StringComparison.Ordinal))
                    offenders.Add($"{owner}.{metadata.GetString(field.Name)}");
            }
            foreach (var propertyHandle in type.GetProperties())
            {
                var property = metadata.GetPropertyDefinition(propertyHandle);
                if (property.DecodeSignature(names, null).ReturnType.Contains(EntraNamespace, StringComparison.Ordinal))
                    offenders.Add($"{owner}.{metadata.GetString(property.Name)}");
            }
        }
        Assert.True(offenders.Count == 0, "These load the Entra engine (and so Graph) at import: " + string.Join(", ", offenders));
        // The decoder does see engine types in signatures (the guard can fail): CreateDirectory returns one.
        Assert.Contains(metadata.MethodDefinitions.Select(h => metadata.GetMethodDefinition(h)),
            m => metadata.GetString(m.Name) == "CreateDirectory" && m.DecodeSignature(names, null).ReturnType.Contains(EntraNamespace, StringComparison.Ordinal));
    }

    private static readonly string EntraNamespace = typeof(EntraDirectory).Namespace! + ".";

    /// <summary>Type names of signatures, enough to see which namespace a field's or property's type comes from.</summary>
    private sealed class TypeNameProvider : ISignatureTypeProvider<string, object?>
    {
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[]";
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetGenericInstantiation(string genericType, System.Collections.Immutable.ImmutableArray<string> typeArguments) => $"{genericType}<{string.Join(",", typeArguments)}>";
        public string GetGenericMethodParameter(object? genericContext, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? genericContext, int index) => "!" + index;
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
        public string GetPinnedType(string elementType) => elementType;
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            var definition = reader.GetTypeDefinition(handle);
            return reader.GetString(definition.Namespace) + "." + reader.GetString(definition.Name);
        }
        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            var reference = reader.GetTypeReference(handle);
            return reader.GetString(reference.Namespace) + "." + reader.GetString(reference.Name);
        }
        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);
    }

    private static bool IsOrIsNestedIn(Type type, Type outer)
    {
        for (var t = type; t is not null; t = t.DeclaringType)
            if (t == outer) return true;
        return false;
    }

    private static bool IsGraphType(Type type) =>
        GraphAssemblyPrefixes.Any(prefix => type.Assembly.GetName().Name!.StartsWith(prefix, StringComparison.Ordinal));

    private static IEnumerable<Type> ShapeTypes(Type type)
    {
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        var direct = new List<Type>();
        if (type.BaseType is not null) direct.Add(type.BaseType);
        direct.AddRange(type.GetInterfaces());
        direct.AddRange(type.GetFields(all).Select(f => f.FieldType));
        direct.AddRange(type.GetProperties(all).Select(p => p.PropertyType));
        foreach (var method in type.GetMethods(all))
        {
            direct.Add(method.ReturnType);
            direct.AddRange(method.GetParameters().Select(p => p.ParameterType));
            if (method.IsGenericMethodDefinition) direct.AddRange(method.GetGenericArguments().SelectMany(g => g.GetGenericParameterConstraints()));
        }
        foreach (var constructor in type.GetConstructors(all)) direct.AddRange(constructor.GetParameters().Select(p => p.ParameterType));
        return direct.SelectMany(Unwrap);
    }

    private static IEnumerable<Type> Unwrap(Type type)
    {
        if (type.HasElementType) return Unwrap(type.GetElementType()!);
        if (type.IsGenericParameter) return [];
        return type.IsGenericType ? new[] { type.GetGenericTypeDefinition() }.Concat(type.GetGenericArguments().SelectMany(Unwrap)) : [type];
    }
}
