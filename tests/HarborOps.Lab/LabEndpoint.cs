namespace HarborOps.Lab;

/// <summary>Where a registry answers and the credentials to use there (null for anonymous).</summary>
public sealed record LabEndpoint(Uri BaseUri, string? UserName, string? Password)
{
    public string Host => BaseUri.Authority;

    // The password stays out of test output.
    public override string ToString() => $"{BaseUri} (user {UserName ?? "anonymous"})";
}
