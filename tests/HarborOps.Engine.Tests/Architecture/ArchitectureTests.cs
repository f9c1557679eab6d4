using ArchUnitNET.Domain;
using ArchUnitNET.Fluent;
using ArchUnitNET.Fluent.Slices;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using Xunit;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace HarborOps.Engine.Tests.Architecture;

/// <summary>
/// The layering of docs/architecture.md, checked on the compiled assemblies: engine folders form no cycle, parity and the
/// cut-over reach the copy's scope without depending on the copier, the engine never sees PowerShell, and cmdlets only
/// bind parameters and call engine facades (no protocol, file or parsing work of their own).
/// </summary>
public sealed class ArchitectureTests
{
    private const string Engine = "HarborOps.Engine";

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
    public void Engine_folders_depend_on_each_other_without_cycles()
    {
        SliceRuleDefinition.Slices().Matching($"{Engine}.(*)..").Should().BeFreeOfCycles().Check(Architecture);
    }

    [Theory]
    [InlineData("Parity")]
    [InlineData("CutOver")]
    public void Parity_and_the_cut_over_do_not_depend_on_the_copier(string folder)
    {
        Types().That().Are(InEngineFolder(folder)).Should().NotDependOnAny(InEngineFolder("Migration")).Check(Architecture);
    }

    [Fact]
    public void No_engine_type_references_PowerShell()
    {
        Types().That().ResideInNamespaceMatching($@"^{Engine}(\..*)?$")
            .Should().NotDependOnAny(Types().That().ResideInNamespaceMatching(@"^System\.Management\.Automation(\..*)?$"))
            .Check(Architecture);
    }

    /// <summary>What a cmdlet must leave to the engine: HTTP, JSON, regular expressions, hashing, file content, and the
    /// engine's protocol internals. A cmdlet binds parameters, asks ShouldProcess, and turns engine results, progress and
    /// failures into PowerShell's.</summary>
    [Fact]
    public void Cmdlets_reference_only_engine_facades_models_and_PowerShell()
    {
        var logic = Types().That().ResideInNamespaceMatching(@"^System\.Net\.Http(\..*)?$")
            .Or().ResideInNamespaceMatching(@"^System\.Text\.(Json|RegularExpressions)(\..*)?$")
            .Or().ResideInNamespaceMatching(@"^System\.Security\.Cryptography(\..*)?$")
            .Or().HaveFullName("System.IO.File").Or().HaveFullName("System.IO.FileStream").Or().HaveFullName("System.IO.StreamReader").Or().HaveFullName("System.IO.StreamWriter")
            .Or().ResideInNamespaceMatching($@"^{Engine}\.(Manifests|Registry\.(Http|Auth|Layout))(\..*)?$")
            .As("protocol, parsing and file logic");
        Types().That().ResideInNamespace("HarborOps.Commands")
            .Should().NotDependOnAny(logic)
            .Check(Architecture);
    }
}
