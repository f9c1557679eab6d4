namespace HarborOps.Engine.Harbor;

/// <summary>
/// Harbor's auth_mode as GET /api/v2.0/systeminfo reports it (to anyone, signed in or not). It decides how Harbor onboards
/// a group named in a new project member: only through the authenticator of that mode (goharbor/harbor
/// src/core/auth/authenticator.go SearchAndOnBoardGroup).
/// </summary>
public static class HarborAuthMode
{
    /// <summary>Harbor's own user database (the default): it onboards no group.</summary>
    public const string Database = "db_auth";
    /// <summary>An LDAP directory: a group is searched by its DN and becomes an LDAP group (group_type 1).</summary>
    public const string Ldap = "ldap_auth";
    /// <summary>An OIDC provider such as Entra ID: any group name becomes an OIDC group (group_type 3).</summary>
    public const string Oidc = "oidc_auth";
    /// <summary>An HTTP authentication proxy: any group name becomes an HTTP group (group_type 2).</summary>
    public const string HttpProxy = "http_auth";
    /// <summary>Cloud Foundry UAA: it onboards no group.</summary>
    public const string Uaa = "uaa_auth";
}
