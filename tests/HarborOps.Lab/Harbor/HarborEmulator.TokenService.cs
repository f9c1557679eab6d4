using System.Globalization;

namespace HarborOps.Lab.Harbor;

/// <summary>Harbor's registry token service (/service/token): scopes filtered by the caller's rights, never refused.</summary>
public sealed partial class HarborEmulator
{
    // ---------------------------------------------------------------- token service

    private List<LabAccess> GrantScopes(Identity who, IEnumerable<string> scopes)
    {
        var granted = new List<LabAccess>();
        lock (_gate)
        {
            foreach (var scope in scopes)
            {
                var access = LabTokenService.ParseScope(scope);
                if (access is null) continue;
                var actions = new List<string>();
                if (access.Type == "repository")
                {
                    var project = _projects.FirstOrDefault(p => access.Name.StartsWith(p.Name + "/", StringComparison.Ordinal));
                    // Tokens are filtered, never refused: a scope the caller may not have is simply left out.
                    if (project is not null)
                        foreach (var action in access.Actions.Contains("*") ? ["pull", "push", "delete"] : access.Actions)
                            if (Can(who, project, "repository", action)) actions.Add(action);
                }
                else if (access.Type == "registry" && access.Name == "catalog" && (who.SysAdmin || Can(who, null, "catalog", "read")))
                {
                    actions.AddRange(access.Actions);
                }
                if (actions.Count > 0) granted.Add(access with { Actions = actions.Distinct().ToList() });
            }
        }
        return granted;
    }

    private async Task TokenAsync(HttpContext context)
    {
        var query = context.Request.Query;
        if (query["service"].ToString() != TokenService)
        {
            await WriteErrorAsync(context, 400, "BAD_REQUEST", $"invalid service: {query["service"]}");
            return;
        }
        var header = context.Request.Headers.Authorization.ToString();
        var who = Authenticate(header);
        var scopes = query["scope"].SelectMany(s => (s ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        if (who.IsAnonymous && (!string.IsNullOrEmpty(header) || scopes.Count == 0))
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"harbor\"";
            await WriteErrorAsync(context, 401, "UNAUTHORIZED", "authentication required");
            return;
        }
        var issued = DateTimeOffset.UtcNow;
        var token = LabTokenService.SignJwt(LabTokenService.SharedSigningCertificate, TokenIssuer, TokenService, who.IsAnonymous ? "" : NameOf(who),
            GrantScopes(who, scopes), issued, issued + _options.TokenLifetime);
        await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
        {
            ["token"] = token, ["expires_in"] = (int)_options.TokenLifetime.TotalSeconds, ["issued_at"] = issued.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        });
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { errors = new[] { new { code, message } } });
    }
}
