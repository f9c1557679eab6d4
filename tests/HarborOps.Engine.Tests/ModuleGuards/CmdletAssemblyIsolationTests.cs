using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using HarborOps.Engine.Errors;
using Xunit;

namespace HarborOps.Engine.Tests.ModuleGuards;

/// <summary>
/// The cmdlet assembly loads in PowerShell's default context. If it referenced a third-party assembly
/// (Azure.Core, MSAL, YamlDotNet...), that assembly would be bound there too and clash with the copies other
/// modules load; everything third-party must be reached through the engine, in the private context.
/// </summary>
public sealed class CmdletAssemblyIsolationTests
{
    private static readonly string[] ForbiddenPrefixes =
    [
        "Azure.", "Microsoft.Identity.", "Microsoft.Graph", "Microsoft.Kiota", "Kiota", "KubernetesClient", "YamlDotNet",
        "Newtonsoft.", "Microsoft.Bcl.", "Microsoft.Extensions.",
    ];

    /// <summary>Framework-named assemblies that are also shipped as NuGet packages the engine pulls in.</summary>
    private static readonly string[] ForbiddenPackagedSystemAssemblies =
    [
        "System.Text.Json", "System.ClientModel", "System.Memory.Data", "System.Text.Encodings.Web", "System.IO.Pipelines",
        "System.Diagnostics.DiagnosticSource", "System.Security.Cryptography.ProtectedData",
    ];

    private static readonly string[] AllowedNonSystem = ["HarborOps.Engine", "HarborOps.Models", "System.Management.Automation", "netstandard"];

    [Fact]
    public void Cmdlet_assembly_references_only_the_engine_the_models_power_shell_and_the_runtime()
    {
        IReadOnlyList<string> references = ReadAssemblyReferences(CmdletAssemblyPath());

        Assert.Contains("HarborOps.Engine", references);
        Assert.Contains("System.Management.Automation", references);
        var offending = references.Where(name => !IsAllowed(name)).ToArray();
        Assert.True(offending.Length == 0,
            $"HarborOps.dll references {string.Join(", ", offending)}; reach third-party code through HarborOps.Engine so it stays in the private load context.");
    }

    [Fact]
    public void Guard_rejects_third_party_and_packaged_names()
    {
        // The guard itself must be able to fail: these are the names that would break isolation.
        foreach (string name in new[] { "Azure.Core", "Azure.Identity", "Microsoft.Identity.Client", "Microsoft.Graph.Core", "Microsoft.Kiota.Abstractions", "KubernetesClient", "YamlDotNet", "System.Text.Json", "System.ClientModel" })
        {
            Assert.False(IsAllowed(name), name);
        }

        foreach (string name in new[] { "HarborOps.Engine", "HarborOps.Models", "System.Management.Automation", "System.Runtime", "System.Collections.Concurrent" })
        {
            Assert.True(IsAllowed(name), name);
        }
    }

    [Fact]
    public void Every_engine_error_id_is_documented_in_about_Harbor_ops_errors()
    {
        string about = File.ReadAllText(Path.Combine(HarborOps.Lab.Tests.Fixtures.RepositoryFiles.Root(), "module", "about_HarborOps_Errors.help.txt"));
        var ids = typeof(HarborOpsException).Assembly.GetExportedTypes()
            .Where(type => type.IsAbstract && type.IsSealed && type.Name.EndsWith("ErrorIds", StringComparison.Ordinal))
            .SelectMany(type => type.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(field => field.IsLiteral && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!)
            .ToArray();

        Assert.NotEmpty(ids);
        var undocumented = ids.Where(id => !about.Contains(id, StringComparison.Ordinal)).ToArray();
        Assert.True(undocumented.Length == 0, $"Add these error ids to module/about_HarborOps_Errors.help.txt: {string.Join(", ", undocumented)}");
    }

    private static bool IsAllowed(string name)
    {
        if (ForbiddenPrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            || ForbiddenPackagedSystemAssemblies.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        return AllowedNonSystem.Contains(name, StringComparer.OrdinalIgnoreCase)
            || name.StartsWith("System.", StringComparison.OrdinalIgnoreCase)
            || name.Equals("System", StringComparison.OrdinalIgnoreCase);
    }

    private static IReadOnlyList<string> ReadAssemblyReferences(string path)
    {
        // Read the metadata without loading: HarborOps.dll needs System.Management.Automation, which is not here.
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        MetadataReader metadata = pe.GetMetadataReader();
        return metadata.AssemblyReferences
            .Select(handle => metadata.GetString(metadata.GetAssemblyReference(handle).Name))
            .ToArray();
    }

    private static string CmdletAssemblyPath()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "HarborOps.dll");
        Assert.True(File.Exists(path), $"HarborOps.dll is not next to the tests ({path}); the project reference to src/HarborOps copies it.");
        return path;
    }
}
