using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry.Http;

namespace HarborOps.Engine.Registry.Auth;

/// <summary>Auth state of one logical request across its attempts: what the pipeline holds through the auth seam.</summary>
internal sealed class AuthAttempt : IRequestAuthorization
{
    private readonly RegistryAuthenticator _authenticator;
    private readonly RegistryRequest _request;

    public AuthAttempt(RegistryAuthenticator authenticator, RegistryRequest request, RegistryCredential credential)
    {
        this._authenticator = authenticator;
        this._request = request;
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
        _authenticator.ApplyAsync(message, _request, this, cancellationToken);

    public bool OnUnauthorized(HttpResponseMessage response) => _authenticator.OnUnauthorized(response, _request, this);

    public RegistryException Failure(int statusCode, RegistryErrorBody body) => _authenticator.Failure(_request, this, statusCode, body);
}
