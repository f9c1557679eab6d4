using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// Challenge auth as the pipeline sees it. Registry/Auth implements it and uses the pipeline to reach token services;
/// the pipeline knows only this seam, so the dependency runs one way (Auth -> Http).
/// </summary>
internal interface IChallengeAuthenticator
{
    /// <summary>Picks the request's credential (explicit, session, docker config or anonymous) for all its attempts.</summary>
    Task<IRequestAuthorization> BeginAsync(RegistryRequest request, CancellationToken cancellationToken);

    /// <summary>The token service a registry's Bearer challenge named (its service parameter); null before a Bearer challenge was met.</summary>
    string? BearerServiceOf(string registry);

    /// <summary>The user name and password requests to <paramref name="registry"/> would carry; null when that credential is no password (anonymous, a token).</summary>
    Task<System.Net.NetworkCredential?> PasswordCredentialAsync(string registry, System.Net.NetworkCredential? explicitCredential, CancellationToken cancellationToken);
}

/// <summary>The auth of one logical request across its attempts (challenge learnt, token sent, one retry after a 401).</summary>
internal interface IRequestAuthorization
{
    /// <summary>Who the request acts as, for messages ("the credential of 'alice' (Set-RegistryCredential)").</summary>
    string Who { get; }

    /// <summary>Whether a 401 so far came with a challenge this client understood.</summary>
    bool ChallengeSeen { get; }

    /// <summary>Adds the credential's secrets, to be cut out of whatever the server says.</summary>
    void AddSecretsTo(SentSecrets sent);

    /// <summary>Attaches what the host's known challenge calls for; the first request to a host goes bare.</summary>
    Task ApplyAsync(HttpRequestMessage message, CancellationToken cancellationToken);

    /// <summary>Learns from a 401; true when one more attempt may succeed.</summary>
    bool OnUnauthorized(HttpResponseMessage response);

    /// <summary>The exception for a 401 that auth could not fix.</summary>
    RegistryException Failure(int statusCode, RegistryErrorBody body);
}
