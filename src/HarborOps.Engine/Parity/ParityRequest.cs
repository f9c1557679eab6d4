using HarborOps.Engine.Harbor;
using HarborOps.Engine.Scope;

namespace HarborOps.Engine.Parity;

/// <summary>
/// Compare-RegistryParity's request: the scope of a copy request (Copy-RegistryImage) (sources, destination, mapping, tag
/// filters, credentials), so a comparison checks exactly what that copy would have written.
/// </summary>
public sealed record ParityRequest : RegistryScopeRequest
{
    public ParityRequest(IReadOnlyList<string> sources, string destination)
        : base(sources, destination)
    {
    }

    /// <summary>Also check that signatures, attestations, SBOMs and other referrers of each image are at the destination.</summary>
    public bool IncludeReferrers { get; init; }

    /// <summary>Report identical tags too (kind Equal); otherwise they are only counted.</summary>
    public bool IncludeEqual { get; init; }

    /// <summary>
    /// The Harbor behind the destination, whose inventory API lists the destination's tags (100 artifacts a request
    /// instead of a HEAD per tag); null takes the Connect-Harbor session when it is for the destination registry.
    /// </summary>
    public HarborConnection? Harbor { get; init; }

    /// <summary>
    /// Whether a destination no Harbor session names is checked for being a Harbor (its token service and /systeminfo)
    /// so its artifact listing replaces a HEAD per tag. Off, such a destination is compared as any registry is: what the
    /// benchmark measures the listing against.
    /// </summary>
    public bool DetectHarbor { get; init; } = true;

    /// <summary>Repositories compared at once; each lists its tags with the store's own bounded parallelism.</summary>
    public int ThrottleLimit { get; init; } = 8;
}
