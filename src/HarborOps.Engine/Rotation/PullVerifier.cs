using System.Collections.Concurrent;
using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Registry;

namespace HarborOps.Engine.Rotation;

/// <summary>
/// Proves that a pull credential works the way the kubelet will use it: a token from Harbor's token service for the
/// credential, then a manifest HEAD on /v2/ of an image in each project it must pull from. Which image is looked up
/// once per project with the operator's Harbor connection.
/// </summary>
/// <remarks>The registry engine given here should be private to the run: its token cache is keyed by credential, and a
/// check must talk to the token service, not reuse a token issued before a robot was deleted.</remarks>
public sealed class PullVerifier(RegistryEngine registry, HarborClient harbor)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<(string Repository, string Reference)>>> _probes = new(StringComparer.Ordinal);

    /// <summary>The registry (host[:port]) the Harbor connection serves.</summary>
    public string Registry => harbor.Connection.Registry;

    /// <summary>Pulls one manifest per project with the credential; returns what it pulled. Throws <see cref="PullSecretErrorIds.VerificationFailed"/>.</summary>
    public async Task<string> VerifyAsync(NetworkCredential credential, IReadOnlyList<string> projects, object target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credential);
        ArgumentNullException.ThrowIfNull(projects);
        if (projects.Count == 0)
            throw new PullSecretException(PullSecretErrorIds.ProjectsUnknown, FailureKind.InvalidArgument,
                $"There is no Harbor project to check '{credential.UserName}' against; name the namespace's projects with -Project.", target);
        var store = registry.OpenStore(Registry, credential);
        var pulled = new List<string>();
        foreach (var project in projects)
        {
            var (repository, reference) = await _probes.GetOrAdd(project, p => new Lazy<Task<(string, string)>>(() => FindProbeAsync(p, cancellationToken))).Value.ConfigureAwait(false);
            try
            {
                var found = await store.HeadManifestAsync(repository, reference, cancellationToken).ConfigureAwait(false);
                // A project without images answers 404 for the probe name only after the token service granted pull on it.
                pulled.Add(found is null ? $"{project} (no images; pull access granted)" : $"{repository}@{found.Digest}");
            }
            catch (HarborOpsException ex) when (ex.Kind is FailureKind.AuthenticationFailed or FailureKind.PermissionDenied or FailureKind.NotFound)
            {
                // PermissionDenied, not AuthenticationFailed: the robot's login failing is this namespace's problem, not the run's.
                throw new PullSecretException(PullSecretErrorIds.VerificationFailed, FailureKind.PermissionDenied,
                    $"'{credential.UserName}' could not pull {repository}:{reference} from {Registry}: {ex.Message}", target, ex);
            }
        }
        return string.Join(", ", pulled);
    }

    private async Task<(string Repository, string Reference)> FindProbeAsync(string project, CancellationToken cancellationToken)
    {
        var repositories = await harbor.ListRepositoriesAsync(project, cancellationToken).ConfigureAwait(false);
        foreach (var repository in repositories)
        {
            await foreach (var artifact in harbor.ListArtifactsAsync(project, repository, cancellationToken).ConfigureAwait(false))
                return ($"{project}/{repository}", artifact.Digest);
        }
        return ($"{project}/harborops-pull-check", "latest");
    }
}
