using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Parity;

/// <summary>Stable error ids of parity checks. Documented in about_HarborOps_Errors; never renamed.</summary>
public static class ParityErrorIds
{
    public const string DifferencesFound = "ParityDifferencesFound";
}

/// <summary>
/// -FailOnDifference: the comparison found differences. Thrown after every difference was written, and terminating, so a
/// CI step fails with a non-zero exit.
/// </summary>
public sealed class ParityDifferencesException(int differences, string source, string destination)
    : HarborOpsException(ParityErrorIds.DifferencesFound, FailureKind.InvalidData,
        $"{differences} difference{(differences == 1 ? "" : "s")} between {source} and {destination}. The differences were written before this error; pipe them into Copy-RegistryImage to copy what is missing.",
        destination)
{
    public int Differences { get; } = differences;

    public override bool IsTerminating => true;
}
