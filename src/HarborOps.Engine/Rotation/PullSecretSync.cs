using System.Security;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Kube;
using HarborOps.Models;
using k8s;
using k8s.Models;

namespace HarborOps.Engine.Rotation;

/// <summary>Which namespaces: names (wildcards allowed), a label selector, or all of them.</summary>
public sealed record NamespaceSelection
{
    public IReadOnlyList<string> Names { get; init; } = [];
    public string? LabelSelector { get; init; }
    public bool All { get; init; }
}

/// <summary>A pull secret to write: the login, where it is for, and what to annotate it with.</summary>
public sealed record PullSecretSyncRequest(string Registry, string UserName, SecureString Secret)
{
    public const string DefaultSecretName = "harbor-pull";

    public string SecretName { get; init; } = DefaultSecretName;
    public DateTimeOffset? ExpiresAt { get; init; }
    public long? RobotId { get; init; }
    /// <summary>ServiceAccounts whose imagePullSecrets must list the secret.</summary>
    public IReadOnlyList<string> ServiceAccounts { get; init; } = ["default"];
    /// <summary>Replace a same-named secret of another type (delete and create: a Secret's type cannot change).</summary>
    public bool Force { get; init; }
    /// <summary>Harbor projects to record for the rotation; empty keeps what the secret records.</summary>
    public IReadOnlyList<string> Projects { get; init; } = [];
    /// <summary>Rotation state to record with the credential; null keeps the secret's own (only registry, robot and times change).</summary>
    public Func<PullSecretState, PullSecretState>? UpdateState { get; init; }
}

/// <summary>
/// Writes a <c>kubernetes.io/dockerconfigjson</c> secret into namespaces and lists it in ServiceAccounts'
/// imagePullSecrets. Every write is read-compare-write with the object's resourceVersion, retried on 409, and
/// skipped when nothing would change. Never writes the secret into any message.
/// </summary>
public sealed class PullSecretSync(KubeCluster cluster, TimeProvider? clock = null)
{
    /// <summary>How often a write that lost a race (409) is retried with a fresh read.</summary>
    public const int ConflictRetries = 5;

    private readonly TimeProvider _time = clock ?? TimeProvider.System;

    /// <summary>
    /// The namespaces a selection names (kube's <see cref="KubeNamespaceScope"/>): plain names as given (no list
    /// permission needed), wildcards and a label selector by listing namespaces, -All every namespace.
    /// </summary>
    public async Task<IReadOnlyList<string>> ResolveNamespacesAsync(NamespaceSelection selection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var scope = await KubeNamespaceScope.ResolveAsync(cluster, selection.Names, selection.LabelSelector, cancellationToken, listAll: selection.All).ConfigureAwait(false);
        return scope.Names;
    }

    /// <summary>The namespaces of a selection, or (null) every namespace that has a HarborOps-managed secret of that name.</summary>
    public async Task<IReadOnlyList<string>> ResolveManagedNamespacesAsync(NamespaceSelection? selection, string secretName, CancellationToken cancellationToken)
    {
        if (selection is not null) return await ResolveNamespacesAsync(selection, cancellationToken).ConfigureAwait(false);
        var secrets = await cluster.CallAsync(KubeOperation.List("secrets"),
            (k, ct) => k.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: PullSecretKeys.ManagedSelector, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        return secrets.Items.Where(s => s.Metadata.Name == secretName).Select(s => s.Metadata.NamespaceProperty).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Writes the secret and the ServiceAccount entries of one namespace. <paramref name="confirm"/> is asked with a
    /// description of the change just before the first write (return false for -WhatIf); it is not asked when nothing changes.
    /// </summary>
    public async Task<PullSecretSyncResult> SyncAsync(string namespaceName, PullSecretSyncRequest request,
        Func<string, Task<bool>>? confirm, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var registry = DockerConfigJson.NormalizeRegistry(request.Registry);
        var payload = DockerConfigJson.Build(registry, request.UserName, request.Secret);
        var result = new PullSecretSyncResult
        {
            Namespace = namespaceName, SecretName = request.SecretName, Registry = registry, UserName = request.UserName, ExpiresAt = request.ExpiresAt,
        };
        var confirmed = confirm is null;

        async Task<bool> ConfirmAsync(string change)
        {
            if (confirmed) return true;
            confirmed = await confirm!(change).ConfigureAwait(false);
            return confirmed;
        }

        PullSecretAction action = PullSecretAction.Unchanged;
        for (var attempt = 1; ; attempt++)
        {
            var existing = await ReadSecretAsync(namespaceName, request.SecretName, cancellationToken).ConfigureAwait(false);
            if (existing is not null && existing.Type != DockerConfigJson.SecretType)
            {
                if (!request.Force)
                    throw new PullSecretException(PullSecretErrorIds.WrongType, FailureKind.Conflict,
                        $"Namespace '{namespaceName}' already has a secret '{request.SecretName}' of type '{existing.Type ?? "Opaque"}', which is not a pull secret. It was left alone: choose another -SecretName, or add -Force to delete it and write the pull secret in its place.",
                        namespaceName);
                if (!await ConfirmAsync($"Replace secret '{request.SecretName}' of type '{existing.Type}' with a pull secret for {request.UserName} @ {registry}").ConfigureAwait(false))
                    return result with { Action = PullSecretAction.Planned, Message = "would replace the secret of another type" };
                try
                {
                    await cluster.CallAsync(KubeOperation.Delete("secrets", namespaceName, request.SecretName),
                        (k, ct) => k.CoreV1.DeleteNamespacedSecretAsync(request.SecretName, namespaceName,
                            new V1DeleteOptions { Preconditions = new V1Preconditions { ResourceVersion = existing.Metadata.ResourceVersion } }, cancellationToken: ct),
                        cancellationToken).ConfigureAwait(false);
                }
                catch (KubeException ex) when ((ex.IsConflict || ex.IsNotFound) && attempt < ConflictRetries)
                {
                    // The precondition failed (the secret changed since it was read) or it is already gone: read again and decide again.
                    continue;
                }
                action = PullSecretAction.Replaced;
                existing = null;
            }

            var oldState = PullSecretState.FromAnnotations(existing?.Metadata.Annotations);
            var holds = existing?.Data is { } data && data.TryGetValue(DockerConfigJson.DataKey, out var bytes) && DockerConfigJson.Holds(bytes, registry, request.UserName, request.Secret);
            var now = Truncate(_time.GetUtcNow());
            var newState = oldState with
            {
                Registry = registry,
                Robot = request.UserName,
                RobotId = request.RobotId ?? (holds ? oldState.RobotId : null),
                ExpiresAt = request.ExpiresAt,
                RotatedAt = holds && oldState.RotatedAt is not null ? oldState.RotatedAt : now,
                VerifiedAt = holds ? oldState.VerifiedAt : null,
                Projects = request.Projects.Count > 0 ? request.Projects : oldState.Projects,
                // The record that the rotation created the robot belongs to that robot; another login written here
                // (Sync-PullSecret with a robot of someone else's) must not inherit it.
                CreatedRobot = request.UserName == oldState.Robot ? oldState.CreatedRobot : null,
            };
            if (request.UpdateState is not null) newState = request.UpdateState(newState);

            var wanted = BuildSecret(namespaceName, request.SecretName, payload, newState, existing);
            if (existing is not null && holds && SameMetadata(existing, wanted))
                break;

            var change = existing is null ? $"Create pull secret '{request.SecretName}' for {request.UserName} @ {registry}"
                : holds ? $"Update the annotations of pull secret '{request.SecretName}'"
                : $"Write {request.UserName} @ {registry} into pull secret '{request.SecretName}' (was {oldState.Robot ?? "another login"})";
            if (!await ConfirmAsync(change).ConfigureAwait(false))
                return result with { Action = PullSecretAction.Planned, Message = change };
            try
            {
                if (existing is null)
                {
                    try
                    {
                        await cluster.CallAsync(KubeOperation.Create("secrets", namespaceName, request.SecretName),
                            (k, ct) => k.CoreV1.CreateNamespacedSecretAsync(wanted, namespaceName, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                    }
                    catch (KubeException ex) when (ex.IsNotFound)
                    {
                        throw new PullSecretException(PullSecretErrorIds.NamespaceNotFound, FailureKind.NotFound,
                            $"Namespace '{namespaceName}' does not exist in the cluster. Check the name, or create the namespace first.", namespaceName, ex);
                    }
                    if (action != PullSecretAction.Replaced) action = PullSecretAction.Created;
                }
                else
                {
                    await cluster.CallAsync(KubeOperation.Update("secrets", namespaceName, request.SecretName),
                        (k, ct) => k.CoreV1.ReplaceNamespacedSecretAsync(wanted, request.SecretName, namespaceName, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                    action = PullSecretAction.Updated;
                }
                break;
            }
            catch (KubeException ex) when ((ex.IsConflict || ex.IsAlreadyExists) && attempt < ConflictRetries)
            {
                // Someone wrote the secret between our read and write: read again and decide again.
            }
        }

        var updatedAccounts = new List<string>();
        foreach (var account in request.ServiceAccounts.Distinct(StringComparer.Ordinal))
        {
            if (await EnsureServiceAccountListsAsync(namespaceName, account, request.SecretName, ConfirmAsync, cancellationToken).ConfigureAwait(false) is { } outcome)
            {
                if (outcome == false) return result with { Action = PullSecretAction.Planned, Message = $"would add '{request.SecretName}' to ServiceAccount '{account}'" };
                updatedAccounts.Add(account);
            }
        }
        if (action == PullSecretAction.Unchanged && updatedAccounts.Count > 0) action = PullSecretAction.Updated;
        return result with { Action = action, ServiceAccountsUpdated = [.. updatedAccounts] };
    }

    /// <summary>
    /// Adds the secret to a ServiceAccount's imagePullSecrets, keeping every entry already there: read, merge, PUT with
    /// the resourceVersion read (a patch would replace the whole list), again on 409. Null when it was listed already,
    /// true when added, false when the change was declined.
    /// </summary>
    public async Task<bool?> EnsureServiceAccountListsAsync(string namespaceName, string account, string secretName,
        Func<string, Task<bool>>? confirm, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            V1ServiceAccount serviceAccount;
            try
            {
                serviceAccount = await cluster.CallAsync(KubeOperation.Get("serviceaccounts", namespaceName, account),
                    (k, ct) => k.CoreV1.ReadNamespacedServiceAccountAsync(account, namespaceName, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            }
            catch (KubeException ex) when (ex.IsNotFound)
            {
                throw new PullSecretException(PullSecretErrorIds.ServiceAccountNotFound, FailureKind.NotFound,
                    $"Namespace '{namespaceName}' has no ServiceAccount '{account}' to list secret '{secretName}' in. Name existing ones with -ServiceAccount, or create it first.",
                    namespaceName, ex);
            }
            var entries = serviceAccount.ImagePullSecrets ?? [];
            if (entries.Any(e => e.Name == secretName)) return null;
            if (confirm is not null && !await confirm($"Add '{secretName}' to the imagePullSecrets of ServiceAccount '{account}' (keeping {entries.Count} entries)").ConfigureAwait(false))
                return false;
            serviceAccount.ImagePullSecrets = [.. entries, new V1LocalObjectReference { Name = secretName }];
            try
            {
                await cluster.CallAsync(KubeOperation.Update("serviceaccounts", namespaceName, account),
                    (k, ct) => k.CoreV1.ReplaceNamespacedServiceAccountAsync(serviceAccount, account, namespaceName, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (KubeException ex) when (ex.IsConflict && attempt < ConflictRetries)
            {
                // Another writer changed the ServiceAccount (a controller adding its token, a second sync): merge into theirs.
            }
            catch (KubeException ex) when (ex.IsConflict)
            {
                throw new PullSecretException(PullSecretErrorIds.ConflictRetriesExhausted, FailureKind.Conflict,
                    $"ServiceAccount '{account}' in namespace '{namespaceName}' changed under every one of {ConflictRetries} attempts to add '{secretName}'; something rewrites it constantly. Run again, or find the writer.",
                    namespaceName, ex);
            }
        }
    }

    /// <summary>
    /// Rewrites only the rotation state on a managed secret (read, change, PUT with resourceVersion, again on 409);
    /// writes nothing when the state comes out the same. Returns the state as stored.
    /// </summary>
    public async Task<PullSecretState> UpdateStateAsync(string namespaceName, string secretName, Func<PullSecretState, PullSecretState> update,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        for (var attempt = 1; ; attempt++)
        {
            var secret = await ReadSecretAsync(namespaceName, secretName, cancellationToken).ConfigureAwait(false)
                ?? throw new PullSecretException(PullSecretErrorIds.NotManaged, FailureKind.NotFound,
                    $"Secret '{secretName}' disappeared from namespace '{namespaceName}' during the rotation; run the rotation again to write it anew.", namespaceName);
            var before = PullSecretState.FromAnnotations(secret.Metadata.Annotations);
            var after = update(before);
            var annotations = new Dictionary<string, string>(secret.Metadata.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal);
            foreach (var (key, value) in after.ToAnnotations())
            {
                if (value is null) annotations.Remove(key);
                else annotations[key] = value;
            }
            if (SameMap(secret.Metadata.Annotations, annotations)) return before;
            secret.Metadata.Annotations = annotations;
            try
            {
                await cluster.CallAsync(KubeOperation.Update("secrets", namespaceName, secretName),
                    (k, ct) => k.CoreV1.ReplaceNamespacedSecretAsync(secret, secretName, namespaceName, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                return after;
            }
            catch (KubeException ex) when (ex.IsConflict && attempt < ConflictRetries)
            {
                // Changed since read: apply the same change to the newer object.
            }
        }
    }

    /// <summary>The secret, or null when the namespace has none of that name.</summary>
    public Task<V1Secret?> ReadSecretAsync(string namespaceName, string secretName, CancellationToken cancellationToken) =>
        cluster.GetOrDefaultAsync(KubeOperation.Get("secrets", namespaceName, secretName),
            (k, ct) => k.CoreV1.ReadNamespacedSecretAsync(secretName, namespaceName, cancellationToken: ct), cancellationToken);

    private static V1Secret BuildSecret(string namespaceName, string secretName, byte[] payload, PullSecretState state, V1Secret? existing)
    {
        // Labels and annotations others put on the secret stay; ours are set or removed.
        var labels = new Dictionary<string, string>(existing?.Metadata.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [PullSecretKeys.ManagedByLabel] = PullSecretKeys.ManagedByValue,
        };
        var annotations = new Dictionary<string, string>(existing?.Metadata.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (key, value) in state.ToAnnotations())
        {
            if (value is null) annotations.Remove(key);
            else annotations[key] = value;
        }
        return new V1Secret
        {
            ApiVersion = "v1", Kind = "Secret", Type = DockerConfigJson.SecretType,
            Metadata = new V1ObjectMeta
            {
                Name = secretName, NamespaceProperty = namespaceName, Labels = labels, Annotations = annotations,
                ResourceVersion = existing?.Metadata.ResourceVersion,
            },
            Data = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [DockerConfigJson.DataKey] = payload },
        };
    }

    private static bool SameMetadata(V1Secret existing, V1Secret wanted) =>
        SameMap(existing.Metadata.Labels, wanted.Metadata.Labels) && SameMap(existing.Metadata.Annotations, wanted.Metadata.Annotations)
        && (existing.Data?.Count ?? 0) == 1;

    private static bool SameMap(IDictionary<string, string>? left, IDictionary<string, string>? right)
    {
        left ??= new Dictionary<string, string>();
        right ??= new Dictionary<string, string>();
        return left.Count == right.Count && left.All(pair => right.TryGetValue(pair.Key, out var value) && value == pair.Value);
    }

    private static DateTimeOffset Truncate(DateTimeOffset time) => new(time.Ticks - time.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
}
