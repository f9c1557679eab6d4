using HarborOps.Engine.Kube;
using HarborOps.Models;

namespace HarborOps.Engine.Rotation;

/// <summary>
/// A namespace's pull secret as an alert wants it: which robot, how old, when it expires, and whether it still pulls
/// (tried for real against Harbor with the secret's own credential when a verifier is given).
/// </summary>
public sealed class PullSecretStatusReader(KubeCluster cluster, PullVerifier? verifier, TimeProvider? clock = null)
{
    private readonly PullSecretSync _sync = new(cluster, clock);
    private readonly TimeProvider _time = clock ?? TimeProvider.System;

    public async Task<PullSecretStatus> ReadAsync(string namespaceName, string secretName, int expiringWithinDays, string? registry, CancellationToken cancellationToken)
    {
        var secret = await _sync.ReadSecretAsync(namespaceName, secretName, cancellationToken).ConfigureAwait(false);
        var status = new PullSecretStatus { Namespace = namespaceName, SecretName = secretName };
        if (secret is null) return status with { NeedsAttention = true, Detail = $"namespace '{namespaceName}' has no secret '{secretName}'" };
        if (secret.Type != DockerConfigJson.SecretType)
            return status with { Exists = true, NeedsAttention = true, Detail = $"secret '{secretName}' is of type '{secret.Type}', not a pull secret" };

        var state = PullSecretState.FromAnnotations(secret.Metadata.Annotations);
        var managed = secret.Metadata.Labels?.TryGetValue(PullSecretKeys.ManagedByLabel, out var by) == true && by == PullSecretKeys.ManagedByValue;
        var host = registry ?? state.Registry ?? verifier?.Registry;
        var payload = secret.Data?.TryGetValue(DockerConfigJson.DataKey, out var bytes) == true ? bytes : null;
        var login = host is null ? null : DockerConfigJson.Read(payload, host);
        var now = _time.GetUtcNow();
        // A secret HarborOps did not write has no rotated-at; its creation is the best age there is.
        var rotatedAt = state.RotatedAt
            ?? (secret.Metadata.CreationTimestamp is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : null);
        int? daysLeft = state.ExpiresAt is { } expires ? (int)Math.Floor((expires - now).TotalDays) : null;
        status = status with
        {
            Exists = true,
            Managed = managed,
            Registry = host,
            Robot = login?.UserName ?? state.Robot,
            RotatedAt = rotatedAt,
            AgeDays = rotatedAt is { } at ? (int)Math.Floor((now - at).TotalDays) : null,
            ExpiresAt = state.ExpiresAt,
            DaysLeft = daysLeft,
        };

        bool? authenticates = null;
        string? detail = null;
        if (verifier is not null)
        {
            if (login is null)
            {
                authenticates = false;
                detail = $"the secret holds no login for {host ?? verifier.Registry}";
            }
            else if (state.Projects.Count == 0)
            {
                detail = "not checked: the secret records no Harbor projects (HarborOps did not rotate it)";
            }
            else
            {
                try
                {
                    detail = "pulled " + await verifier.VerifyAsync(login, state.Projects, namespaceName, cancellationToken).ConfigureAwait(false);
                    authenticates = true;
                }
                catch (PullSecretException ex) when (ex.ErrorId == PullSecretErrorIds.VerificationFailed)
                {
                    authenticates = false;
                    detail = ex.Message;
                }
            }
        }
        var expiring = daysLeft is { } left && left <= expiringWithinDays;
        return status with { Authenticates = authenticates, Detail = detail, NeedsAttention = expiring || authenticates == false };
    }
}
