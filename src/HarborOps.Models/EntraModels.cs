namespace HarborOps.Models;

/// <summary>One change Sync-HarborProjectMember made (or would make, under -WhatIf it is not emitted) to a project's Entra group members.</summary>
public sealed class HarborProjectGroupChange
{
    public string Harbor { get; init; } = "";
    public string Project { get; init; } = "";
    /// <summary>The Entra group's display name.</summary>
    public string GroupName { get; init; } = "";
    /// <summary>The Entra group's object id: the OIDC group name in Harbor.</summary>
    public string GroupId { get; init; } = "";
    /// <summary>Added, RoleChanged or Removed.</summary>
    public string Action { get; init; } = "";
    /// <summary>The role before the change; null for Added.</summary>
    public string? OldRole { get; init; }
    /// <summary>The role after the change; null for Removed.</summary>
    public string? NewRole { get; init; }
    /// <summary>Harbor's member id (of the removed member for Removed).</summary>
    public int MemberId { get; init; }
}

/// <summary>A user whose Entra group count makes Entra leave the groups claim out of their token (Test-HarborOidcGroupClaim).</summary>
public sealed class HarborOidcGroupClaimFinding
{
    public string Project { get; init; } = "";
    public string UserId { get; init; } = "";
    public string? UserPrincipalName { get; init; }
    public string? DisplayName { get; init; }
    /// <summary>
    /// Groups of every type the user belongs to, nesting included (Graph's transitiveMemberOf cast to group); directory
    /// roles and administrative units are not in it. Entra's groups claim also counts directory roles.
    /// </summary>
    public int GroupCount { get; init; }
    /// <summary>The count above which the groups claim is left out (200 for JWTs unless -Threshold says otherwise).</summary>
    public int Threshold { get; init; }
    /// <summary>The project's Entra groups through which the user reaches the project (display names).</summary>
    public IReadOnlyList<string> ProjectGroups { get; init; } = [];
}
