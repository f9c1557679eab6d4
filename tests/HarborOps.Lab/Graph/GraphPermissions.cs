namespace HarborOps.Lab.Graph;

/// <summary>One Graph call's application permissions: the least privileged and the higher ones that also allow it.</summary>
public sealed record GraphCallPermissions(string Call, string LeastPrivileged, IReadOnlyList<string> Higher, string Documentation)
{
    public IEnumerable<string> All => Higher.Prepend(LeastPrivileged);

    public bool AllowedBy(IReadOnlyList<string> roles) => All.Any(p => roles.Contains(p, StringComparer.Ordinal));
}

/// <summary>
/// The application-permission tables of learn.microsoft.com's per-call pages for the calls HarborOps makes, each row next
/// to its page (the v1.0 tables, "Application" row; read through the search corpus). Delegated permissions do not apply:
/// the lab issues app-only tokens.
/// </summary>
public static class GraphPermissions
{
    public static readonly GraphCallPermissions ListGroups = new("GET /groups", "GroupMember.Read.All",
        ["Directory.Read.All", "Directory.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All"],
        "https://learn.microsoft.com/graph/api/group-list");

    public static readonly GraphCallPermissions GetGroup = new("GET /groups/{id}", "GroupMember.Read.All",
        ["Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Group.Read.All"],
        "https://learn.microsoft.com/graph/api/group-get");

    public static readonly GraphCallPermissions ListMembers = new("GET /groups/{id}/members", "GroupMember.Read.All",
        ["Directory.Read.All", "Group.Read.All", "Group.ReadWrite.All", "GroupMember.ReadWrite.All"],
        "https://learn.microsoft.com/graph/api/group-list-members");

    public static readonly GraphCallPermissions ListTransitiveMembers = new("GET /groups/{id}/transitiveMembers", "GroupMember.Read.All",
        ["Directory.Read.All", "Group.Read.All", "Group.ReadWrite.All", "GroupMember.ReadWrite.All"],
        "https://learn.microsoft.com/graph/api/group-list-transitivemembers");

    /// <summary>"Permissions for another user's memberships": User.ReadBasic.All is not among them.</summary>
    public static readonly GraphCallPermissions ListUserTransitiveMemberOf = new("GET /users/{id}/transitiveMemberOf", "User.Read.All",
        ["Directory.Read.All", "Directory.ReadWrite.All", "Group.Read.All", "GroupMember.Read.All"],
        "https://learn.microsoft.com/graph/api/user-list-transitivememberof");

    /// <summary>
    /// Which permissions read an object's properties inside a directoryObject collection; without one of them Graph returns
    /// the object with @odata.type and id only, every other property null ("Limited information returned for inaccessible
    /// member objects", https://learn.microsoft.com/graph/permissions-overview#limited-information-returned-for-inaccessible-member-objects).
    /// User.ReadBasic.All's basic profile holds displayName and userPrincipalName (https://learn.microsoft.com/graph/permissions-reference#userreadbasicall).
    /// </summary>
    public static IReadOnlyList<string> ReadersOf(string kind) => kind switch
    {
        LabObjectKinds.User => ["User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
        LabObjectKinds.Group => ["GroupMember.Read.All", "GroupMember.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
        // Roles and administrative units: their get pages' tables were not at hand; the lab's apps hold none of these, so
        // what matters here is that GroupMember.Read.All and User.* do not read them.
        LabObjectKinds.DirectoryRole => ["RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory", "Directory.Read.All", "Directory.ReadWrite.All"],
        LabObjectKinds.AdministrativeUnit => ["AdministrativeUnit.Read.All", "AdministrativeUnit.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
        _ => [],
    };

    public static bool CanRead(IReadOnlyList<string> roles, string kind) => ReadersOf(kind).Any(p => roles.Contains(p, StringComparer.Ordinal));
}
