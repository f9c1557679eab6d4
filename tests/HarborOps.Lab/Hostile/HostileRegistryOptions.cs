namespace HarborOps.Lab.Hostile;

public enum HostileAuth { None, Basic, Bearer }

public sealed record HostileRegistryOptions
{
    public HostileAuth Auth { get; init; } = HostileAuth.Basic;
    public string UserName { get; init; } = "alice";
    /// <summary>Random per registry, so a leak found in any output is certainly ours.</summary>
    public string Password { get; init; } = "hostile-" + Guid.NewGuid().ToString("N");
    /// <summary>Listen on 443 (https) and 80 (http), so that <c>https://name</c> and <c>http://name</c> differ only by scheme
    /// and the default port that <see cref="Uri.Authority"/> leaves out. Needs root (or CAP_NET_BIND_SERVICE).</summary>
    public bool UseDefaultPorts { get; init; }
    /// <summary>The host name of the realm <see cref="HostileMode.PlainHttpRealmOnOtherHost"/> names; the lab's loopback name by default.</summary>
    public string? OtherHostName { get; init; }
    /// <summary>The certificate authority that issues the https listener's certificate; the lab's shared one when null.</summary>
    public LabCertificateAuthority? CertificateAuthority { get; init; }
    /// <summary>Most tags on one tag-list page (clients may ask for fewer with <c>n</c>).</summary>
    public int TagsPageSize { get; init; } = 100;
    public IReadOnlyCollection<HostileMode> Modes { get; init; } = [];
}

/// <summary>One request as the hostile registry saw it, credentials included (the point is to find where they went).</summary>
public sealed record HostileRequest(string Scheme, string Host, int Port, string Method, string PathAndQuery, string? Authorization,
    string? FormBody, int StatusCode)
{
    public override string ToString() => $"{Scheme}://{Host}:{Port} {Method} {PathAndQuery} -> {StatusCode}{(Authorization is null ? "" : " (with Authorization)")}";
}
