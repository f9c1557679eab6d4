using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using HarborOps.Engine.Errors;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Authentication.Azure;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware.Options;

namespace HarborOps.Engine.Entra;

/// <summary>An Entra ID group: its object id is what Entra puts in the groups claim and so Harbor's OIDC group name.</summary>
public sealed record EntraGroup(string Id, string DisplayName);

/// <summary>An Entra ID user found among a group's transitive members.</summary>
public sealed record EntraUser(string Id, string? DisplayName, string? UserPrincipalName);

/// <summary>
/// The engine's only door to Microsoft Graph. Everything Graph or Kiota stays inside this class, and only the Entra
/// cmdlets create it, so Microsoft.Graph (47 MB) is loaded into the private context when one of them runs and never at
/// import or by the other cmdlets. Graph's own middleware does the HTTP work: its retry handler retries 429/503/504
/// after Retry-After, its page iterator follows @odata.nextLink.
/// </summary>
public sealed class EntraDirectory : IDisposable
{
    private static readonly Uri[] KnownAuthorityHosts =
        [AzureAuthorityHosts.AzurePublicCloud, AzureAuthorityHosts.AzureGovernment, AzureAuthorityHosts.AzureChina];

    private readonly EntraConnectionOptions _options;
    private readonly HttpClient _http;
    private readonly GraphServiceClient _graph;
    private readonly Action<string>? _log;

    public EntraDirectory(EntraConnectionOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _log = log;
        Credential = CreateCredential(options);
        var handlers = GraphClientFactory.CreateDefaultHandlers();
        for (var i = 0; i < handlers.Count; i++)
        {
            if (handlers[i] is RetryHandler)
                handlers[i] = new RetryHandler(new RetryHandlerOption { MaxRetry = options.MaxRetries });
        }
        _http = GraphClientFactory.Create(handlers, finalHandler: options.TransportHandler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        var authority = options.GraphEndpoint.GetLeftPart(UriPartial.Authority);
        var authentication = new AzureIdentityAuthenticationProvider(Credential, [options.GraphEndpoint.Host], null, true, $"{authority}/.default");
        _graph = new GraphServiceClient(_http, authentication, $"{authority}{options.GraphEndpoint.AbsolutePath.TrimEnd('/')}/v1.0");
    }

    /// <summary>The Azure.Identity credential in use (its type names the sign-in in messages).</summary>
    public TokenCredential Credential { get; }

    public string Endpoint => _options.GraphEndpoint.ToString();

    /// <summary>How many per-user Graph calls may run at once.</summary>
    public int MaxConcurrency => Math.Max(1, _options.MaxConcurrency);

    internal static TokenCredential CreateCredential(EntraConnectionOptions options)
    {
        // An authority Entra's instance discovery does not know (Azure Stack, a sovereign proxy, the lab) would be
        // checked against the public cloud's discovery endpoint; such hosts are trusted as given instead.
        var disableDiscovery = options.AuthorityHost is { } host && !KnownAuthorityHosts.Any(known => known.Host == host.Host);
        T With<T>(T credentialOptions) where T : TokenCredentialOptions
        {
            if (options.AuthorityHost is not null) credentialOptions.AuthorityHost = options.AuthorityHost;
            if (options.TransportHandler is not null) credentialOptions.Transport = new HttpClientTransport(new HttpClient(options.TransportHandler, disposeHandler: false));
            return credentialOptions;
        }
        return options.CredentialKind switch
        {
            EntraCredentialKind.ClientSecret => new ClientSecretCredential(options.TenantId, options.ClientId, options.ClientSecret,
                With(new ClientSecretCredentialOptions { DisableInstanceDiscovery = disableDiscovery })),
            EntraCredentialKind.ClientCertificate => new ClientCertificateCredential(options.TenantId, options.ClientId, options.CertificatePath,
                With(new ClientCertificateCredentialOptions { DisableInstanceDiscovery = disableDiscovery })),
            EntraCredentialKind.ManagedIdentity => new ManagedIdentityCredential(
                options.ClientId is null ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(options.ClientId)),
            _ => new DefaultAzureCredential(With(new DefaultAzureCredentialOptions { TenantId = options.TenantId, DisableInstanceDiscovery = disableDiscovery })),
        };
    }

    /// <summary>A group by object id or display name. Unknown: EntraGroupNotFound; a name several groups share: EntraGroupAmbiguous listing them.</summary>
    public async Task<EntraGroup> ResolveGroupAsync(string nameOrId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrId);
        if (Guid.TryParse(nameOrId, out _))
        {
            return await FindGroupByIdAsync(nameOrId, cancellationToken).ConfigureAwait(false)
                ?? throw new EntraException(EntraErrorIds.GroupNotFound, FailureKind.NotFound,
                    $"Entra ID has no group with object id '{nameOrId}' (in the tenant the credential signs in to). Check the id in the Entra admin center, or give the group's display name.",
                    nameOrId, statusCode: 404, graphErrorCode: "Request_ResourceNotFound");
        }

        var candidates = new List<EntraGroup>();
        await CallAsync(nameOrId, async () =>
        {
            var first = await _graph.Groups.GetAsync(request =>
            {
                request.QueryParameters.Filter = $"displayName eq '{nameOrId.Replace("'", "''", StringComparison.Ordinal)}'";
                request.QueryParameters.Select = ["id", "displayName"];
                request.QueryParameters.Top = _options.PageSize;
            }, cancellationToken).ConfigureAwait(false);
            await IterateAsync<Group, GroupCollectionResponse>(first, group =>
            {
                candidates.Add(new EntraGroup(group.Id!, group.DisplayName ?? ""));
                return true;
            }, cancellationToken).ConfigureAwait(false);
            return 0;
        }, $"looking up group '{nameOrId}'").ConfigureAwait(false);
        _log?.Invoke($"Graph: {candidates.Count} group(s) named '{nameOrId}'.");
        return candidates.Count switch
        {
            1 => candidates[0],
            0 => throw new EntraException(EntraErrorIds.GroupNotFound, FailureKind.NotFound,
                $"Entra ID has no group named '{nameOrId}'. Check the spelling (display names match exactly), or give the group's object id.", nameOrId),
            _ => throw new EntraException(EntraErrorIds.GroupAmbiguous, FailureKind.InvalidArgument,
                $"{candidates.Count} Entra ID groups are named '{nameOrId}': {string.Join(", ", candidates.OrderBy(g => g.Id, StringComparer.Ordinal).Select(g => g.Id))}. Give the object id of the one you mean.",
                nameOrId),
        };
    }

    /// <summary>A group by object id, or null when Entra answers 404.</summary>
    public async Task<EntraGroup?> FindGroupByIdAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return await CallAsync(id, async () =>
            {
                var group = await _graph.Groups[id].GetAsync(request => request.QueryParameters.Select = ["id", "displayName"], cancellationToken).ConfigureAwait(false);
                return new EntraGroup(group!.Id!, group.DisplayName ?? "");
            }, $"reading group '{id}'").ConfigureAwait(false);
        }
        catch (EntraException ex) when (ex.StatusCode == 404)
        {
            return null;
        }
    }

    /// <summary>The users among a group's transitive members (nested groups expanded by Graph), every page.</summary>
    public async Task<IReadOnlyList<EntraUser>> ListTransitiveUsersAsync(EntraGroup group, CancellationToken cancellationToken)
    {
        var users = new List<EntraUser>();
        var pages = 0;
        await CallAsync(group.DisplayName, async () =>
        {
            var first = await _graph.Groups[group.Id].TransitiveMembers.GetAsync(request =>
            {
                request.QueryParameters.Select = ["id", "displayName", "userPrincipalName"];
                request.QueryParameters.Top = _options.PageSize;
            }, cancellationToken).ConfigureAwait(false);
            pages = await IterateAsync<DirectoryObject, DirectoryObjectCollectionResponse>(first, member =>
            {
                if (member is User user)
                {
                    // Entra users always have both; both null is Graph's limited object for an app that cannot read users.
                    if (user.DisplayName is null && user.UserPrincipalName is null) throw UsersUnreadable(group, user.Id);
                    users.Add(new EntraUser(user.Id!, user.DisplayName, user.UserPrincipalName));
                }
                return true;
            }, cancellationToken).ConfigureAwait(false);
            return 0;
        }, $"listing the transitive members of group '{group.DisplayName}' ({group.Id})").ConfigureAwait(false);
        _log?.Invoke($"Graph: group '{group.DisplayName}' has {users.Count} user(s) among its transitive members ({pages} page(s)).");
        return users;
    }

    /// <summary>
    /// How many groups the user belongs to, directly or through nested groups: transitiveMemberOf cast to group and
    /// counted (/users/{id}/transitiveMemberOf/graph.group/$count; $count is an advanced query and needs ConsistencyLevel:
    /// eventual). The uncast transitiveMemberOf also lists directory roles and administrative units
    /// (learn.microsoft.com/graph/api/user-list-transitivememberof), which are not groups.
    /// </summary>
    public Task<int> CountTransitiveGroupsAsync(EntraUser user, CancellationToken cancellationToken) =>
        CallAsync(user.UserPrincipalName ?? user.Id, async () =>
            await _graph.Users[user.Id].TransitiveMemberOf.GraphGroup.Count.GetAsync(request => request.Headers.Add("ConsistencyLevel", "eventual"), cancellationToken).ConfigureAwait(false) ?? 0,
            $"counting the groups of user '{user.UserPrincipalName ?? user.Id}'");

    /// <summary>
    /// Graph lists a directoryObject the app may not read with only @odata.type and id, every other property null
    /// (learn.microsoft.com/graph/permissions-overview, "Limited information returned for inaccessible member objects").
    /// </summary>
    private EntraException UsersUnreadable(EntraGroup group, string? userId) =>
        new(EntraErrorIds.PermissionDenied, FailureKind.PermissionDenied,
            $"Microsoft Graph listed the members of group '{group.DisplayName}' ({group.Id}) without their names (user {userId}: only its id): the identity cannot read users. Grant it User.ReadBasic.All (application permission, with admin consent).",
            group.DisplayName);

    private async Task<int> IterateAsync<TEntity, TPage>(TPage? first, Func<TEntity, bool> onItem, CancellationToken cancellationToken)
        where TPage : Microsoft.Kiota.Abstractions.Serialization.IParsable, IAdditionalDataHolder, new()
    {
        if (first is null) return 0;
        var pages = 1;
        var iterator = PageIterator<TEntity, TPage>.CreatePageIterator(_graph, first, onItem, request =>
        {
            pages++;
            return request;
        });
        await iterator.IterateAsync(cancellationToken).ConfigureAwait(false);
        return pages;
    }

    /// <summary>Runs one Graph exchange (its retries included) and turns what can go wrong into EntraExceptions.</summary>
    private async Task<T> CallAsync<T>(string target, Func<Task<T>> call, string description)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ApiException error)
        {
            throw Translate(error, target, description);
        }
        catch (AggregateException error) when (error.InnerExceptions.LastOrDefault() is ApiException last)
        {
            // Graph's retry handler gives up with every attempt's failure aggregated; the last one says where things stand.
            throw Translate(last, target, description, error);
        }
        catch (AuthenticationFailedException error)
        {
            throw new EntraException(EntraErrorIds.AuthenticationFailed, FailureKind.AuthenticationFailed,
                $"Could not get an Entra ID token for Microsoft Graph through {Credential.GetType().Name}: {error.Message.Split('\n')[0]} Check -TenantId, -ClientId and the secret or certificate, or sign in (az login, a managed or workload identity).",
                target, error);
        }
        catch (HttpRequestException error)
        {
            throw new EntraException(EntraErrorIds.Unreachable, FailureKind.ConnectionFailed,
                $"Microsoft Graph at {Endpoint} could not be reached while {description}: {error.Message} Check -GraphEndpoint and the network.", target, error);
        }
    }

    private EntraException Translate(ApiException error, string target, string description, Exception? outer = null)
    {
        var status = error.ResponseStatusCode;
        var code = (error as ODataError)?.Error?.Code;
        var detail = error is ODataError odata ? $"HTTP {status} {code}: {odata.Error?.Message}" : $"HTTP {status}";
        var inner = outer ?? error;
        return status switch
        {
            401 => new EntraException(EntraErrorIds.AuthenticationFailed, FailureKind.AuthenticationFailed,
                $"Microsoft Graph at {Endpoint} rejected the token of {Credential.GetType().Name} while {description} ({detail}). Check the tenant and that the token is for this Graph endpoint.",
                target, inner, status, code),
            403 => new EntraException(EntraErrorIds.PermissionDenied, FailureKind.PermissionDenied,
                $"Microsoft Graph refused {description} ({detail}). Grant the identity GroupMember.Read.All and User.ReadBasic.All (application permissions, with admin consent).",
                target, inner, status, code),
            404 => new EntraException(EntraErrorIds.GroupNotFound, FailureKind.NotFound, $"Microsoft Graph found nothing while {description} ({detail}).", target, inner, status, code),
            429 or 503 or 504 => new EntraException(EntraErrorIds.Throttled, FailureKind.Throttled,
                $"Microsoft Graph was still throttling or unavailable after {_options.MaxRetries} retries while {description} ({detail}). Run again later.",
                target, inner, status, code),
            _ => new EntraException(EntraErrorIds.RequestFailed, FailureKind.ServerError, $"Microsoft Graph failed while {description} ({detail}).", target, inner, status, code),
        };
    }

    public void Dispose() => _http.Dispose();
}
