using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry.Http;

namespace HarborOps.Engine.Registry.Auth;

/// <summary>Auth state of one logical request across its attempts: what the pipeline holds through the auth seam.</summary>
internal sealed class AuthAttempt : IRequestAuthorization
{
    private readonly RegistryAuthenticator authenticator;
    private readonly RegistryRequest request;

    public AuthAttempt(RegistryAuthenticator authenticator, RegistryRequest request, RegistryCredential credential)
    {
        this.authenticator = authenticator;
        this.request = request;
        Credential = credential;
        Scopes = request.Scopes;
    }

    public RegistryCredential Credential { get; }
    /// <summary>The request's scopes plus any a challenge added.</summary>
    public IReadOnlyList<string> Scopes { get; set; }
    public BearerToken? SentToken { get; set; }
    public bool SentBasic { get; set; }
    public bool Retried { get; set; }
    public IReadOnlyList<AuthChallenge> LastChallenges { get; set; } = [];

    public string Who => Credential.Describe();
    public bool ChallengeSeen => LastChallenges.Count > 0;

    public void AddSecretsTo(SentSecrets sent) => sent.AddBasic(Credential.UserName, Credential.Secret);

    public Task ApplyAsync(HttpRequestMessage message, CancellationToken cancellationToken) =>
        authenticator.ApplyAsync(message, request, this, cancellationToken);

    public bool OnUnauthorized(HttpResponseMessage response) => authenticator.OnUnauthorized(response, request, this);

    public RegistryException Failure(int statusCode, RegistryErrorBody body) => authenticator.Failure(request, this, statusCode, body);
}
