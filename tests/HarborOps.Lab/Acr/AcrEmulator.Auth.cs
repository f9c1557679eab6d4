using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Primitives;

namespace HarborOps.Lab.Acr;

public sealed partial class AcrEmulator
{
    /// <summary>Who a request or a token speaks for, and what that identity may do.</summary>
    private sealed record Principal(string Subject, IReadOnlyList<LabGrant> Grants);

    /// <summary>What a /v2 or /acr/v1 request carries: a verified access token's access list, a Basic identity, or nothing.</summary>
    private sealed record Caller(IReadOnlyList<LabAccess>? TokenAccess, Principal? Basic, bool Presented, string? Problem)
    {
        public bool Allows(string type, string name, string action)
        {
            if (TokenAccess is not null)
                return TokenAccess.Any(a => a.Type == type && a.Name == name && (a.Actions.Contains(action) || a.Actions.Contains("*")));
            return Basic is not null && Basic.Grants.Any(g => g.Covers(type, name) && (g.Actions.Contains("*") || g.Actions.Contains(action)));
        }
    }

    /// <summary>
    /// What a real ACR with anonymous pull on grants an anonymous caller: pulls, the listings (metadata_read) and the
    /// catalog. A recorded anonymous token (tests/contracts/acr/recordings, CanGetRepositoriesWithCustomPageSize(True):
    /// sub "acr_anon_pull", access registry:catalog:*) lists the catalog; the SDK's anonymous live tests list tags and
    /// manifests the same way. Writes, deletes and metadata_write stay refused.
    /// </summary>
    private Principal AnonymousPrincipal => new("", AnonymousPull
        ? [new LabGrant("repository", "*", ["pull", "metadata_read"]), new LabGrant("registry", "catalog", ["*"])]
        : []);

    private Principal? BasicUser(string user, string password)
    {
        if (user == NullGuidUser)
            return LabJwt.Validate(password, LabTokenService.SharedSigningCertificate, Issuer, Service, out _) is { } refresh ? PrincipalOf(refresh) : null;
        return _users.TryGetValue(user, out var entry)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(entry.Password), Encoding.UTF8.GetBytes(password))
            ? new Principal(user, entry.Grants)
            : null;
    }

    /// <summary>The identity of an ACR refresh token, with its current role assignments (a revoked role stops working).</summary>
    private Principal? PrincipalOf(JsonElement refreshClaims)
    {
        if (!refreshClaims.TryGetProperty("grant_type", out var grant) || grant.GetString() != "refresh_token") return null;
        var subject = refreshClaims.GetProperty("sub").GetString() ?? "";
        if (subject.StartsWith("entra:", StringComparison.Ordinal))
            return new Principal(subject, _roles.GetValueOrDefault(subject["entra:".Length..], []));
        return _users.TryGetValue(subject, out var entry) ? new Principal(subject, entry.Grants) : null;
    }

    private Caller Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        // Even with anonymous pull on, the registry API wants a token: anonymous callers get theirs from /oauth2/token.
        if (header.Length == 0) return new Caller(null, null, false, null);
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var claims = LabJwt.Validate(header[7..].Trim(), LabTokenService.SharedSigningCertificate, Issuer, Service, out var problem);
            if (claims is not { } valid || !valid.TryGetProperty("access", out var access))
                return new Caller(null, null, true, claims is null ? problem : "not an access token");
            var list = access.EnumerateArray().Select(a => new LabAccess(a.GetProperty("type").GetString()!, a.GetProperty("name").GetString()!,
                a.GetProperty("actions").EnumerateArray().Select(x => x.GetString()!).ToList())).ToList();
            return new Caller(list, null, true, null);
        }
        if (LabTokenService.TryParseBasic(header, out var user, out var password) && BasicUser(user, password) is { } principal)
            return new Caller(null, principal, true, null);
        return new Caller(null, null, true, "bad credentials");
    }

    /// <summary>ACR's 401: a Bearer challenge naming realm, service and the scope the call needs.</summary>
    private Task ChallengeAsync(HttpContext context, Caller caller, string? scope)
    {
        var challenge = new StringBuilder($"Bearer realm=\"http://{Service}/oauth2/token\",service=\"{Service}\"");
        if (scope is not null) challenge.Append($",scope=\"{scope}\"");
        if (caller.Presented) challenge.Append(caller.Problem is null ? ",error=\"insufficient_scope\"" : ",error=\"invalid_token\"");
        context.Response.Headers.WWWAuthenticate = challenge.ToString();
        var access = scope is null ? null : LabTokenService.ParseScope(scope);
        return ErrorAsync(context, 401, "UNAUTHORIZED", "authentication required, visit https://aka.ms/acr/authorization for more information.",
            access is null ? null : access.Actions.Select(a => new { Type = access.Type, Name = access.Name, Action = a }).ToArray());
    }

    // ---------------------------------------------------------------- /oauth2/exchange

    private async Task ExchangeAsync(HttpContext context)
    {
        Interlocked.Increment(ref _exchanges);
        var status = 200;
        var subject = "";
        try
        {
            if (context.Request.Method != "POST" || !context.Request.HasFormContentType)
            {
                status = 400;
                await ErrorAsync(context, 400, "BAD_REQUEST", "POST an application/x-www-form-urlencoded form");
                return;
            }
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            if (form["grant_type"] != "access_token")
            {
                status = 400;
                await ErrorAsync(context, 400, "UNSUPPORTED_GRANT_TYPE", $"grant_type '{form["grant_type"]}' is not supported; use access_token");
                return;
            }
            if (form["service"] != Service)
            {
                status = 400;
                await ErrorAsync(context, 400, "BAD_REQUEST", $"invalid service '{form["service"]}'; this registry is '{Service}'");
                return;
            }
            var claims = Entra.Validate(form["access_token"].ToString(), EntraAudience, out var problem);
            if (claims is not { } valid)
            {
                status = 401;
                await ErrorAsync(context, 401, "UNAUTHORIZED", $"The Azure AD access token is not valid for this registry: {problem}.");
                return;
            }
            var tenant = valid.GetProperty("tid").GetString();
            if (!StringValues.IsNullOrEmpty(form["tenant"]) && form["tenant"] != tenant)
            {
                status = 401;
                await ErrorAsync(context, 401, "UNAUTHORIZED", $"The tenant '{form["tenant"]}' does not match the token's tenant.");
                return;
            }
            subject = "entra:" + valid.GetProperty("oid").GetString();
            var now = DateTimeOffset.UtcNow;
            var refresh = LabJwt.Sign(LabTokenService.SharedSigningCertificate, new Dictionary<string, object>
            {
                ["jti"] = Guid.NewGuid().ToString(),
                ["sub"] = subject,
                ["nbf"] = now.ToUnixTimeSeconds() - 5,
                ["exp"] = (now + _options.RefreshTokenLifetime).ToUnixTimeSeconds(),
                ["iat"] = now.ToUnixTimeSeconds(),
                ["iss"] = Issuer,
                ["aud"] = Service,
                ["version"] = "1.0",
                ["grant_type"] = "refresh_token",
                ["tenant"] = tenant ?? "",
                ["permissions"] = new { actions = new[] { "*" }, notActions = Array.Empty<string>() },
                ["roles"] = Array.Empty<string>(),
            });
            await context.Response.WriteAsJsonAsync(new { refresh_token = refresh });
        }
        finally
        {
            lock (_tokenCalls) _tokenCalls.Add(new AcrTokenCall("exchange", context.Request.Method, "access_token", subject, [], [], status, DateTimeOffset.UtcNow));
        }
    }

    // ---------------------------------------------------------------- /oauth2/token

    private async Task TokenAsync(HttpContext context)
    {
        Interlocked.Increment(ref _tokenRequests);
        var method = context.Request.Method;
        string? grantType = null;
        Principal? principal = null;
        List<string> scopes = [];
        List<LabAccess> granted = [];
        var status = 200;
        try
        {
            StringValues service;
            if (method == "GET")
            {
                var query = context.Request.Query;
                service = query["service"];
                scopes = SplitScopes(query["scope"]);
                var header = context.Request.Headers.Authorization.ToString();
                if (header.Length == 0)
                {
                    principal = AnonymousPull ? AnonymousPrincipal : null;
                }
                else if (LabTokenService.TryParseBasic(header, out var user, out var password))
                {
                    grantType = "basic";
                    principal = BasicUser(user, password);
                }
            }
            else if (method == "POST" && context.Request.HasFormContentType)
            {
                var form = await context.Request.ReadFormAsync(context.RequestAborted);
                service = form["service"];
                scopes = SplitScopes(form["scope"]);
                grantType = form["grant_type"].ToString();
                switch (grantType)
                {
                    case "refresh_token":
                        var refresh = LabJwt.Validate(form["refresh_token"].ToString(), LabTokenService.SharedSigningCertificate, Issuer, Service, out _);
                        principal = refresh is { } claims ? PrincipalOf(claims) : null;
                        break;
                    case "password":
                        principal = BasicUser(form["username"].ToString(), form["password"].ToString());
                        break;
                    default:
                        status = 400;
                        await ErrorAsync(context, 400, "UNSUPPORTED_GRANT_TYPE", $"grant_type '{grantType}' is not supported; use refresh_token or password");
                        return;
                }
            }
            else
            {
                status = 400;
                await ErrorAsync(context, 400, "BAD_REQUEST", "GET with a query, or POST an application/x-www-form-urlencoded form");
                return;
            }
            if (service != Service)
            {
                status = 400;
                await ErrorAsync(context, 400, "BAD_REQUEST", $"invalid service '{service}'; this registry is '{Service}'");
                return;
            }
            if (principal is null)
            {
                status = 401;
                await ErrorAsync(context, 401, "UNAUTHORIZED", "authentication required, visit https://aka.ms/acr/authorization for more information.");
                return;
            }
            granted = LabTokenService.Grant(scopes, principal.Grants);
            var now = DateTimeOffset.UtcNow;
            var token = LabJwt.Sign(LabTokenService.SharedSigningCertificate, new Dictionary<string, object>
            {
                ["jti"] = Guid.NewGuid().ToString(),
                ["sub"] = principal.Subject,
                ["nbf"] = now.ToUnixTimeSeconds() - 5,
                ["exp"] = (now + AccessTokenLifetime).ToUnixTimeSeconds(),
                ["iat"] = now.ToUnixTimeSeconds(),
                ["iss"] = Issuer,
                ["aud"] = Service,
                ["version"] = "1.0",
                ["grant_type"] = grantType ?? "anonymous",
                ["access"] = granted.Select(g => new Dictionary<string, object> { ["type"] = g.Type, ["name"] = g.Name, ["actions"] = g.Actions }).ToArray(),
            });
            // ACR answers with the token only: no expires_in, clients read the JWT's exp.
            await context.Response.WriteAsJsonAsync(new { access_token = token });
        }
        finally
        {
            lock (_tokenCalls) _tokenCalls.Add(new AcrTokenCall("token", method, grantType, principal?.Subject ?? "", scopes, granted, status, DateTimeOffset.UtcNow));
        }
    }

    private static List<string> SplitScopes(StringValues values) =>
        values.SelectMany(v => (v ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Token, DateTimeOffset Until)> BackendTokens = new(StringComparer.Ordinal);

    /// <summary>
    /// A token the backing Distribution trusts, for exactly the access the emulator already checked; reused for a few
    /// minutes per access set, because signing one per forwarded request made bulk seeding slow.
    /// </summary>
    private static string BackendToken(params LabAccess[] access)
    {
        var key = string.Join(' ', access.Select(a => a.ToString()));
        var now = DateTimeOffset.UtcNow;
        if (BackendTokens.TryGetValue(key, out var cached) && cached.Until > now) return cached.Token;
        var token = LabTokenService.SignJwt(LabTokenService.SharedSigningCertificate, InternalIssuer, InternalService, "acr-frontend", access, now, now.AddMinutes(5));
        BackendTokens[key] = (token, now.AddMinutes(4));
        return token;
    }
}
