namespace HarborOps.Engine.Harbor;

/// <summary>
/// What tab completion offers for Harbor's -Project and a robot's -Name: names from the Connect-Harbor session, one
/// short listing call each, no retries. Completion runs while the user types: any failure, or no session, is an empty
/// list, and a slow Harbor is given up on after <see cref="Deadline"/>. Only names are returned, never a secret.
/// </summary>
public static class HarborCompletion
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    private static readonly HarborClientOptions Quick = new() { MaxRetries = 0, RequestTimeout = Deadline };

    /// <summary>The session's project names, sorted; empty without a session or on any failure.</summary>
    public static Task<IReadOnlyList<string>> ProjectNamesAsync() => RunAsync(async (client, token) =>
    {
        var names = new List<string>();
        await foreach (var project in client.ListAsync<ProjectDto>(new HarborCall(HttpMethod.Get, "projects") { Description = "listing projects" }, token).ConfigureAwait(false))
            names.Add(project.Name);
        return names;
    });

    /// <summary>Robot names (Harbor's full names) of a project, or the system robots without one; empty on any failure.</summary>
    public static Task<IReadOnlyList<string>> RobotNamesAsync(string? project) => RunAsync(async (client, token) =>
        (await client.ListRobotsAsync(project, token).ConfigureAwait(false)).Select(r => r.Name).ToList());

    private static async Task<IReadOnlyList<string>> RunAsync(Func<HarborClient, CancellationToken, Task<List<string>>> list)
    {
        var connection = HarborSession.Current;
        if (connection is null) return [];
        try
        {
            using var deadline = new CancellationTokenSource(Deadline);
            var names = await list(new HarborClient(connection, null, Quick), deadline.Token).WaitAsync(Deadline, deadline.Token).ConfigureAwait(false);
            return names.Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception)
        {
            return []; // failure-silent: the command itself reports what is wrong with the session
        }
    }
}
