using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Harbor;

/// <summary>
/// Which group members a Harbor can take, by its auth mode, checked before anything is written. Harbor onboards a group
/// named in a new member only through the authenticator of its mode (goharbor/harbor src/controller/member/controller.go
/// Create, src/core/auth): the database and UAA modes refuse every group with a bare 404, OIDC and the HTTP auth proxy take
/// any name, LDAP takes a DN its directory has and answers a name with a 500 that says nothing. Saying so first, naming the
/// mode and the fix, is the whole point.
/// </summary>
public static class HarborGroupOnboarding
{
    /// <summary>
    /// The request as Harbor's mode needs it: unchanged for a user, or for a group where the mode takes names; in ldap_auth
    /// a group given by DN (as -Group or -LdapGroupDn) becomes an LDAP group by DN. Throws HarborGroupsUnsupported where the
    /// mode onboards no groups (or not this kind) and HarborLdapGroupDnRequired for a name that is not a DN in ldap_auth.
    /// </summary>
    public static HarborMemberRequest ForAuthMode(HarborMemberRequest request, string authMode, Uri harbor)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.UserName is not null) return request;
        var key = request.LdapGroupDn ?? request.GroupName ?? "";
        switch (authMode)
        {
            case HarborAuthMode.Ldap:
                if (!LdapDistinguishedName.IsDistinguishedName(key)) throw DnRequired(key, harbor);
                return request with { LdapGroupDn = key, GroupName = null, GroupType = HarborGroupType.Ldap };
            case HarborAuthMode.Oidc or HarborAuthMode.HttpProxy when request.LdapGroupDn is not null:
                throw new HarborException(HarborErrorIds.GroupsUnsupported, FailureKind.NotSupported,
                    $"Harbor at {harbor} uses the auth mode '{authMode}', so it cannot find LDAP group '{key}' by its DN: give the group's name as "
                    + $"{(authMode == HarborAuthMode.Oidc ? "the OIDC provider's groups claim carries it (-Group <name> -GroupType Oidc)" : "the auth proxy sends it (-Group <name> -GroupType Http)")}, "
                    + "or switch Harbor's authentication to LDAP (auth_mode ldap_auth). Nothing was changed.", key);
            case HarborAuthMode.Oidc or HarborAuthMode.HttpProxy:
                return request;
            default:
                throw NoGroups(authMode, $"group '{key}'", harbor);
        }
    }

    /// <summary>
    /// Sync-HarborProjectMember's check: Entra groups become members as OIDC groups (oidc_auth), or, where Harbor reads the
    /// directory over LDAP (ldap_auth), as LDAP groups given by DN; any other mode refuses before Entra or Harbor is asked.
    /// </summary>
    public static void EnsureGroupSyncPossible(string authMode, Uri harbor)
    {
        if (authMode is HarborAuthMode.Oidc or HarborAuthMode.Ldap) return;
        throw NoGroups(authMode, "Entra ID groups", harbor);
    }

    /// <summary>HarborLdapGroupDnRequired for <paramref name="key"/>: ldap_auth finds a group only by its DN.</summary>
    public static HarborException DnRequired(string key, Uri harbor) =>
        new(HarborErrorIds.LdapGroupDnRequired, FailureKind.InvalidArgument,
            $"Harbor at {harbor} uses the auth mode 'ldap_auth', which finds a group in the LDAP directory by its distinguished name: "
            + $"'{key}' is not one. Give the group's DN, such as 'cn={(key.Length == 0 ? "team-a-devs" : key)},ou=groups,dc=example,dc=com'. Nothing was changed.", key);

    private static HarborException NoGroups(string authMode, string what, Uri harbor) =>
        new(HarborErrorIds.GroupsUnsupported, FailureKind.NotSupported,
            $"Harbor at {harbor} uses the auth mode '{(authMode.Length == 0 ? "(none reported)" : authMode)}'{(authMode == HarborAuthMode.Database ? " (its own user database)" : "")}, "
            + $"which cannot make {what} project members: Harbor onboards groups only through OIDC (auth_mode oidc_auth; with Entra ID as the OIDC "
            + "provider and its groups claim), LDAP (ldap_auth, groups by DN) or an HTTP auth proxy (http_auth). Configure one of these in Harbor "
            + "(Administration > Configuration > Authentication), or add people one by one with Add-HarborProjectMember -User. Nothing was changed.", what);
}
