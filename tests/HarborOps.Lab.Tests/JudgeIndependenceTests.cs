using Xunit;

namespace HarborOps.Lab.Tests;

/// <summary>The lab's tests judge the emulators with clients that are not ours; if they could reach the engine, a bug in
/// our client could make an emulator look right.</summary>
public sealed class JudgeIndependenceTests
{
    [Fact]
    public void Neither_the_lab_nor_its_tests_reference_the_engine_or_the_cmdlets()
    {
        foreach (var assembly in new[] { typeof(JudgeIndependenceTests).Assembly, typeof(HarborOps.Lab.LabHost).Assembly })
            Assert.DoesNotContain(assembly.GetReferencedAssemblies(), name => name.Name is "HarborOps.Engine" or "HarborOps" or "HarborOps.Models");
        Assert.False(File.Exists(Path.Combine(AppContext.BaseDirectory, "HarborOps.Engine.dll")), "HarborOps.Engine.dll is next to the lab's tests: something references it.");
    }
}
