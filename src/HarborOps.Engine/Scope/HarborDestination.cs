using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.References;

namespace HarborOps.Engine.Scope;

/// <summary>
/// The copy destination is a Harbor: the API connection (with the destination's credential) the copier checks the
/// destination projects with before it pushes, and whether it creates the missing ones. Harbor refuses a push into a
/// missing project with nothing better than "unauthorized", so the copier asks the API first and says what is missing.
/// </summary>
public sealed record HarborDestination
{
    public HarborDestination(HarborConnection connection)
    {
        Connection = connection ?? throw new ArgumentNullException(nameof(connection));
    }

    public HarborConnection Connection { get; init; }

    /// <summary>Create each missing project once per run, with <see cref="ProjectSettings"/> (otherwise its items fail).</summary>
    public bool CreateMissingProjects { get; init; }

    /// <summary>The policies of projects the copier creates; null settings keep Harbor's defaults (private).</summary>
    public HarborProjectSettings ProjectSettings { get; init; } = new();

    /// <summary>Asked once per missing project before it is created (the cmdlet's ShouldProcess); null creates without asking.</summary>
    public Func<string, CancellationToken, Task<bool>>? ConfirmCreateProject { get; init; }

    /// <summary>Retry and timeout settings of the Harbor API client; null uses its defaults.</summary>
    public HarborClientOptions? ClientOptions { get; init; }

    /// <summary>Where to log the API requests (method, path, status, X-Request-Id), such as verbose output.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// The Harbor behind a copy destination, when the caller said so (<paramref name="createProject"/>, an explicit
    /// <paramref name="harborUrl"/>) or the Connect-Harbor session is for that registry; null for other registries, which
    /// have no projects to check. Options that make no sense for the destination fail as bad input before anything runs.
    /// </summary>
    /// <param name="destination">The parsed copy destination (registry, registry and path, or oci: layout), as the request will hold it.</param>
    /// <param name="createProject">Create missing projects (-CreateProject).</param>
    /// <param name="harborUrl">The Harbor API URL when it differs from the registry (-Harbor).</param>
    /// <param name="projectSettings">The policies of created projects; only with <paramref name="createProject"/>.</param>
    /// <param name="credential">The destination's credential, for the API too.</param>
    public static HarborDestination? Resolve(CopyDestination destination, bool createProject, string? harborUrl, HarborProjectSettings? projectSettings,
        System.Net.NetworkCredential? credential)
    {
        if (projectSettings is not null && !createProject)
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument,
                "-ProjectSettings applies to the projects -CreateProject creates; add -CreateProject.");
        ArgumentNullException.ThrowIfNull(destination);
        var registry = destination.Registry;
        if (registry.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.Ordinal))
        {
            if (createProject || harborUrl is not null)
                throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument,
                    $"-CreateProject and -Harbor apply to a Harbor destination, not to the OCI layout '{destination.Text}'.");
            return null;
        }
        var session = HarborSession.Current;
        var sessionIsDestination = session is not null && string.Equals(session.Registry, registry, StringComparison.OrdinalIgnoreCase);
        if (!createProject && harborUrl is null && !sessionIsDestination) return null;
        var url = harborUrl ?? (sessionIsDestination ? session!.Url.ToString() : registry);
        HarborConnection connection;
        try
        {
            connection = HarborSession.Resolve(url, credential, skipCertificateCheck: false);
        }
        catch (HarborException ex) when (ex.ErrorId == HarborErrorIds.NotConnected)
        {
            throw new HarborException(HarborErrorIds.NotConnected, FailureKind.InvalidArgument,
                $"Checking and creating the projects on {url} needs a Harbor credential: give -DestinationCredential, or run Connect-Harbor -Harbor {url} first.", url, ex);
        }
        return new HarborDestination(connection) { CreateMissingProjects = createProject, ProjectSettings = projectSettings ?? new HarborProjectSettings() };
    }
}
