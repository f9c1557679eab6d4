namespace HarborOps.Engine.Harbor;

/// <summary>
/// Just enough of an LDAP distinguished name (cn=team-a-devs,ou=groups,dc=example,dc=com) to tell one from a plain group
/// name before Harbor does: Harbor's LDAP authenticator parses the key as a DN and answers a bare 500 when it is not one.
/// </summary>
public static class LdapDistinguishedName
{
    /// <summary>True when every comma- or plus-separated part (backslash escapes honoured) is attribute=value.</summary>
    public static bool IsDistinguishedName(string? text) =>
        !string.IsNullOrWhiteSpace(text) && Parts(text).All(part => part.IndexOf('=') is var eq && eq > 0 && part[..eq].Trim().Length > 0);

    /// <summary>The value of the first part ("team-a-devs" of cn=team-a-devs,...): the name Harbor gives the group by default.</summary>
    public static string FirstValue(string dn)
    {
        var first = Parts(dn)[0];
        return first[(first.IndexOf('=') + 1)..].Trim();
    }

    private static List<string> Parts(string dn)
    {
        var parts = new List<string>();
        var start = 0;
        for (var i = 0; i < dn.Length; i++)
        {
            if (dn[i] == '\\') i++;
            else if (dn[i] is ',' or '+')
            {
                parts.Add(dn[start..i]);
                start = i + 1;
            }
        }
        parts.Add(dn[start..]);
        return parts;
    }
}
