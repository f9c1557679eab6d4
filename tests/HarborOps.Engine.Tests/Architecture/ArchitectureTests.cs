using ArchUnitNET.Domain;
using ArchUnitNET.Fluent.Slices;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using Xunit;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace HarborOps.Engine.Tests.Architecture;

/// <summary>
/// The layering of the architecture, checked on the compiled assemblies: engine folders (and sub-folders) form no cycle,
/// parity and the cut-over reach the copy's scope (Scope/) without depending on the copier, the engine never sees
/// PowerShell, and cmdlets only bind parameters and call engine facades (no protocol, parsing or file work of their own).
/// Issue 14 emptied the lists of known violations these rules were frozen at; a violation now fails outright.
/// </summary>
public sealed class ArchitectureTests
{
    private const string Engine = "HarborOps.Engine";

    // Types(true) in a rule includes the types our assemblies reference without their assemblies being loaded here
    // (System.Management.Automation, System.Net.Http): with plain Types() a rule about them matches nothing and passes.
    // Read from the files (Mono.Cecil), not loaded: the cmdlet assembly needs System.Management.Automation, which only a
    // PowerShell host provides.
    private static readonly ArchUnitNET.Domain.Architecture Architecture = new ArchLoader()
        .LoadFilteredDirectory(AppContext.BaseDirectory, "HarborOps.Engine.dll")
        .LoadFilteredDirectory(AppContext.BaseDirectory, "HarborOps.dll")
        .LoadFilteredDirectory(AppContext.BaseDirectory, "HarborOps.Models.dll")
        .Build();

    private static IObjectProvider<IType> InEngineFolder(string folder) =>
        Types().That().ResideInNamespace($"{Engine}.{folder}").Or().ResideInNamespaceMatching($@"^{Engine}\.{folder}\..*").As($"Engine/{folder}");

    [Fact]
    public void Engine_folders_depend_on_each_other_without_cycles() =>
        // "Registry.Auth" and "Registry.Http" are slices of their own, so a cycle between sub-folders fails too.
        SliceRuleDefinition.Slices().Matching($"{Engine}.(*)..").Should().BeFreeOfCycles().Check(Architecture);

    [Fact]
    public void Parity_and_the_cut_over_do_not_depend_on_the_copier()
    {
        foreach (var folder in new[] { "Parity", "CutOver" })
            Types().That().Are(InEngineFolder(folder)).Should().NotDependOnAny(InEngineFolder("Migration")).Check(Architecture);
    }

    [Fact]
    public void No_engine_type_references_PowerShell()
    {
        Types().That().ResideInNamespaceMatching($@"^{Engine}(\..*)?$")
            .Should().NotDependOnAny(Types(true).That().ResideInNamespaceMatching(@"^System\.Management\.Automation(\..*)?$"))
            .Check(Architecture);
    }

    /// <summary>What a cmdlet must leave to the engine: HTTP, JSON, regular expressions, hashing, file content, and the
    /// engine's protocol internals. A cmdlet binds parameters, asks ShouldProcess, and turns engine results, progress and
    /// failures into PowerShell's.</summary>
    [Fact]
    public void Cmdlets_reference_only_engine_facades_models_and_PowerShell()
    {
        var logic = Types(true).That().ResideInNamespaceMatching(@"^System\.Net\.Http(\..*)?$")
            .Or().ResideInNamespaceMatching(@"^System\.Text\.(Json|RegularExpressions)(\..*)?$")
            .Or().ResideInNamespaceMatching(@"^System\.Security\.Cryptography(\..*)?$")
            .Or().HaveFullName("System.IO.File").Or().HaveFullName("System.IO.FileStream").Or().HaveFullName("System.IO.StreamReader").Or().HaveFullName("System.IO.StreamWriter")
            .Or().ResideInNamespaceMatching($@"^{Engine}\.(Manifests|Registry\.(Http|Auth|Layout|Store))(\..*)?$")
            .As("protocol, parsing and file logic");
        Types().That().ResideInNamespace("HarborOps.Commands").Should().NotDependOnAny(logic).Check(Architecture);
    }

    /// <summary>The cmdlet assembly loads in PowerShell's default context, where the engine's third-party assemblies are
    /// not: a cmdlet that touches one of their types (a KubernetesClient V1Job in a tuple, say) fails at run time with
    /// FileNotFoundException. Engine answers to cmdlets hold only engine and model types.</summary>
    [Fact]
    public void Cmdlets_touch_no_type_of_the_engines_third_party_assemblies()
    {
        var isolated = Types(true).That().ResideInNamespaceMatching(@"^(k8s|Azure|Microsoft\.Identity|Microsoft\.Graph|Microsoft\.Kiota|YamlDotNet)(\..*)?$")
            .As("the engine's third-party assemblies");
        Types().That().ResideInNamespace("HarborOps.Commands").Should().NotDependOnAny(isolated).Check(Architecture);
        // the same rule shape does find such a dependency where one exists
        Assert.False(Types().That().Are(InEngineFolder("MigrationJobs")).Should().NotDependOnAny(isolated).HasNoViolations(Architecture));
    }

    [Fact]
    public void The_rules_see_what_they_are_about()
    {
        // Guards the guards: a loader or pattern mistake would make every rule pass on an empty architecture.
        Assert.Contains(Architecture.Types, t => t.FullName == "HarborOps.Engine.Registry.RegistryEngine");
        Assert.Contains(Architecture.Types, t => t.FullName == "HarborOps.Commands.CopyRegistryImageCommand");
        Assert.Contains(Architecture.Types, t => t.FullName == "HarborOps.Engine.Parity.ParityChecker");
        // The same rule shapes do find a dependency where one exists: the copier uses the scope, cmdlets use PowerShell.
        Assert.False(Types().That().Are(InEngineFolder("Migration")).Should().NotDependOnAny(InEngineFolder("Scope")).HasNoViolations(Architecture));
        Assert.False(Types().That().ResideInNamespace("HarborOps.Commands")
            .Should().NotDependOnAny(Types(true).That().ResideInNamespaceMatching(@"^System\.Management\.Automation(\..*)?$")).HasNoViolations(Architecture));
        Assert.False(Types().That().Are(InEngineFolder("Registry")).Should()
            .NotDependOnAny(Types(true).That().ResideInNamespaceMatching(@"^System\.Net\.Http(\..*)?$")).HasNoViolations(Architecture));
    }
}
