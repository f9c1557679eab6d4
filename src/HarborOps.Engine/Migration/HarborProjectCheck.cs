using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Scope;

namespace HarborOps.Engine.Migration;

/// <summary>What the project check decided for the destination repositories of a run.</summary>
internal sealed class HarborProjectCheck
{
    /// <summary>Projects created by this run (with PlanOnly: that would be created), by name.</summary>
    public List<string> Created { get; } = [];

    /// <summary>Projects that did not exist when the run started: their repositories are empty, nothing to list or HEAD.</summary>
    public HashSet<string> New { get; } = new(StringComparer.Ordinal);

    /// <summary>Projects whose items cannot be pushed, with the failure each of their items reports.</summary>
    public Dictionary<string, HarborOpsException> Refused { get; } = new(StringComparer.Ordinal);

    /// <summary>The project part of a destination repository ("team/app/api" is in project "team"); null without one.</summary>
    public static string? ProjectOf(string repository)
    {
        var slash = repository.IndexOf('/');
        return slash > 0 ? repository[..slash] : null;
    }

    /// <summary>
    /// Looks up every distinct project of <paramref name="repositories"/> once; missing ones are created (after the
    /// confirmation) when asked to, planned with <paramref name="planOnly"/>, and refused otherwise.
    /// </summary>
    public static async Task<HarborProjectCheck> RunAsync(HarborDestination harbor, IEnumerable<string> repositories, bool planOnly,
        IProgress<OperationProgress>? progress, string activity, CancellationToken cancellationToken)
    {
        var check = new HarborProjectCheck();
        var client = new HarborClient(harbor.Connection, harbor.Log, harbor.ClientOptions);
        var projects = repositories.Select(ProjectOf).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var project in projects)
        {
            progress?.Report(new OperationProgress(activity, $"Checking Harbor project '{project}'", project));
            try
            {
                await client.GetProjectDtoAsync(project, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (HarborException ex) when (ex.ErrorId == HarborErrorIds.ProjectNotFound)
            {
            }
            catch (HarborOpsException ex) when (!ex.IsTerminating)
            {
                check.Refused[project] = ex;
                continue;
            }

            if (!harbor.CreateMissingProjects)
            {
                check.Refused[project] = Missing(harbor, project,
                    $"Project '{project}' does not exist on {harbor.Connection.Url} (or is hidden from '{harbor.Connection.UserName}'), and Harbor refuses pushes into a missing project. Add -CreateProject to Copy-RegistryImage, or create it first with New-HarborProject {project}.");
                continue;
            }
            if (planOnly)
            {
                check.Created.Add(project);
                check.New.Add(project);
                continue;
            }
            if (harbor.ConfirmCreateProject is not null && !await harbor.ConfirmCreateProject(project, cancellationToken).ConfigureAwait(false))
            {
                check.Refused[project] = Missing(harbor, project,
                    $"Project '{project}' does not exist on {harbor.Connection.Url} and its creation was declined, so its images were not copied.");
                continue;
            }
            try
            {
                await client.CreateProjectAsync(project, harbor.ProjectSettings, cancellationToken).ConfigureAwait(false);
                check.Created.Add(project);
                check.New.Add(project);
            }
            catch (HarborException ex) when (ex.ErrorId == HarborErrorIds.ProjectExists)
            {
                // Created by someone else in the meantime: it is there, which is all the copy needs.
            }
            catch (HarborOpsException ex) when (!ex.IsTerminating || ex.ErrorId == HarborErrorIds.ProjectNameInvalid)
            {
                check.Refused[project] = ex;
            }
        }
        return check;
    }

    private static HarborOpsException Missing(HarborDestination harbor, string project, string message) =>
        new(CopyErrorIds.HarborProjectMissing, FailureKind.NotFound, message, project);
}
