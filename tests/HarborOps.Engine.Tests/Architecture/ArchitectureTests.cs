using System.Text.RegularExpressions;
using ArchUnitNET.Domain;
using ArchUnitNET.Fluent;
using ArchUnitNET.Fluent.Slices;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using Xunit;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace HarborOps.Engine.Tests.Architecture;

/// <summary>
/// The layering of the architecture, checked on the compiled assemblies: engine folders form no cycle, parity and the
/// cut-over reach the copy's scope without depending on the copier, the engine never sees PowerShell, and cmdlets only
/// bind parameters and call engine facades (no protocol, parsing or file work of their own).
/// The code does not meet every rule yet (issue 14 redesigns it). Like ArchUnit's frozen rules, the rules that still
/// have violations hold them to the list below: a new violation fails, and so does a listed one that is gone, so the
/// list only shrinks and ends empty.
/// </summary>
public sealed class ArchitectureTests
{
    private const string Engine = "HarborOps.Engine";

    /// <summary>Folder pairs that are part of a dependency cycle today ("from -> to").</summary>
    private static readonly string[] KnownCyclicEdges =
    [
    ];

    /// <summary>Types of Parity and CutOver that still reach into Migration for the copy's scope.</summary>
    private static readonly string[] KnownReachesIntoTheCopier = [];

    /// <summary>Cmdlets that still use an engine internal or do protocol, parsing or file work themselves.</summary>
    private static readonly string[] KnownCmdletsWithLogic = [];

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
    public void Engine_folders_depend_on_each_other_without_new_cycles()
    {
        var rule = SliceRuleDefinition.Slices().Matching($"{Engine}.(*)..").Should().BeFreeOfCycles();
        // One result describes every cycle: a line "From -> To" per folder edge, then its type references.
        var edges = rule.Evaluate(Architecture).Where(r => !r.Passed)
            .SelectMany(r => r.Description.Split('\n'))
            .Select(line => line.TrimEnd('\r'))
            .Where(line => Regex.IsMatch(line, @"^[\w.]+ -> [\w.]+$"))
            .ToHashSet(StringComparer.Ordinal);
        AssertOnlyKnown("folder edges in a cycle", edges, KnownCyclicEdges);
    }

    [Fact]
    public void Parity_and_the_cut_over_do_not_newly_depend_on_the_copier()
    {
        var violators = new HashSet<string>(StringComparer.Ordinal);
        foreach (var folder in new[] { "Parity", "CutOver" })
            violators.UnionWith(ViolatingTypes(Types().That().Are(InEngineFolder(folder)).Should().NotDependOnAny(InEngineFolder("Migration"))));
        AssertOnlyKnown("Parity/CutOver types depending on Migration", violators, KnownReachesIntoTheCopier);
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
        var violators = ViolatingTypes(Types().That().ResideInNamespace("HarborOps.Commands").Should().NotDependOnAny(logic));
        AssertOnlyKnown("cmdlets with logic of their own", violators, KnownCmdletsWithLogic);
    }

    [Fact]
    public void The_frozen_rules_still_see_what_they_are_about()
    {
        // Guards the guards: a loader or pattern mistake would make every rule pass on an empty architecture.
        Assert.Contains(Architecture.Types, t => t.FullName == "HarborOps.Engine.Registry.RegistryEngine");
        Assert.Contains(Architecture.Types, t => t.FullName == "HarborOps.Commands.CopyRegistryImageCommand");
        Assert.Contains(Architecture.Types, t => t.FullName == "HarborOps.Engine.Parity.ParityChecker");
    }

    private static HashSet<string> ViolatingTypes(IArchRule rule) =>
        rule.Evaluate(Architecture).Where(r => !r.Passed)
            .Select(r => r.Description.Split(" does depend on ", 2)[0].Trim())
            .ToHashSet(StringComparer.Ordinal);

    private static void AssertOnlyKnown(string what, IReadOnlySet<string> found, IReadOnlyCollection<string> known)
    {
        var added = found.Except(known, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var gone = known.Except(found, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        Assert.True(added.Count == 0 && gone.Count == 0,
            (added.Count > 0 ? $"New {what} (fix the dependency): {string.Join("; ", added)}. " : "")
            + (gone.Count > 0 ? $"Gone from the code, so take them off the known list in ArchitectureTests: {string.Join("; ", gone)}." : ""));
    }
}
