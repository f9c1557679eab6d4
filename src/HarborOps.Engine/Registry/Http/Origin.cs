namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// Scheme, host and port: what a credential is bound to. <see cref="Uri.Authority"/> will not do, because it leaves out
/// default ports: https://vm and http://vm (443 and 80) have the same authority, and a credential given for the first
/// would travel in clear text to the second.
/// </summary>
internal readonly record struct Origin(string Scheme, string Host, int Port)
{
    public static Origin Of(Uri uri) => new(uri.Scheme.ToLowerInvariant(), uri.IdnHost.ToLowerInvariant(), uri.Port);

    public override string ToString() => $"{Scheme}://{Host}:{Port}";
}
