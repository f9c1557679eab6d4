namespace HarborOps.Engine.Harbor;

/// <summary>
/// Harbor's robot name prefix (the system setting robot_name_prefix, robot$ by default) as this client knows it: given
/// (Connect-Harbor -RobotNamePrefix, kept on the session's connection) or learnt from Harbor, in order of cost: from a
/// robot Harbor returns beside what the client knows of it (a created robot's full name against the name asked for, a
/// project robot's full name against its project), from GET /configurations when the caller is a system admin (the only
/// ones Harbor lets read it), or for a project robot's full name from the projects the caller sees.
/// </summary>
public sealed partial class HarborClient
{
    private string? _learntRobotNamePrefix;
    private int _configurationsTried;

    /// <summary>The robot name prefix of this Harbor when known, else null.</summary>
    public string? RobotNamePrefix => Connection.RobotNamePrefix ?? Volatile.Read(ref _learntRobotNamePrefix);

    /// <summary>The prefix, asking GET /configurations once when it is not known yet. Null when the caller may not read it
    /// (Harbor lets system admins only: 401 or 403 for anyone else).</summary>
    public async Task<string?> ReadRobotNamePrefixAsync(CancellationToken cancellationToken)
    {
        if (RobotNamePrefix is { } known) return known;
        if (Interlocked.Exchange(ref _configurationsTried, 1) == 1) return null;
        var call = new HarborCall(HttpMethod.Get, "configurations")
        {
            Description = "reading the robot name prefix from the system settings", Target = Connection.Url.ToString(), AcceptStatus = s => s is 401 or 403,
        };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        if (response.Status is 401 or 403) return null;
        if (response.Read<ConfigurationsDto>(call).RobotNamePrefix?.Value is { Length: > 0 } prefix) LearnRobotNamePrefix(prefix);
        return RobotNamePrefix;
    }

    /// <summary>
    /// The parts of a robot's full name, or null when it is no robot name of this Harbor as far as can be learnt. With the
    /// prefix unknown and not readable, a name that carries Harbor's default prefix is read with it; a project robot's
    /// name is read against the projects the caller sees (the longest project name the text before '+' ends with).
    /// </summary>
    public async Task<HarborRobotName?> ParseRobotNameAsync(string fullName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fullName);
        var prefix = await ReadRobotNamePrefixAsync(cancellationToken).ConfigureAwait(false);
        if (prefix is null && fullName.StartsWith(HarborConnection.DefaultRobotPrefix, StringComparison.Ordinal))
            return HarborRobotName.Split(fullName, HarborConnection.DefaultRobotPrefix);
        if (prefix is null) prefix = await LearnRobotNamePrefixFromProjectsAsync(fullName, cancellationToken).ConfigureAwait(false);
        return prefix is null ? null : HarborRobotName.Split(fullName, prefix);
    }

    /// <summary>The name part of a robot's full name with what is known now (no request).</summary>
    public string ShortRobotName(string fullName) => HarborRobotName.ShortNameOf(fullName, RobotNamePrefix);

    /// <summary>Learns the prefix from a created robot: Harbor's full name against the stored name asked for.</summary>
    internal void LearnRobotNamePrefix(string fullName, string storedName)
    {
        if (RobotNamePrefix is null && HarborRobotName.PrefixOf(fullName, storedName) is { } prefix) LearnRobotNamePrefix(prefix);
    }

    /// <summary>Learns the prefix from a v2 project robot Harbor returned: its full name against its project (v1 robots,
    /// not editable, keep names of their own).</summary>
    internal void LearnRobotNamePrefix(RobotDto robot)
    {
        if (RobotNamePrefix is not null || robot.Level != "project" || !robot.Editable || robot.Permissions?.FirstOrDefault()?.Namespace is not { Length: > 0 } project) return;
        var plus = robot.Name.LastIndexOf('+');
        if (plus > 0 && HarborRobotName.PrefixOf(robot.Name[..plus], project) is { } prefix) LearnRobotNamePrefix(prefix);
    }

    private void LearnRobotNamePrefix(string prefix) => Interlocked.CompareExchange(ref _learntRobotNamePrefix, prefix, null);

    /// <summary>For a project robot's full name: the longest project the caller sees that the text before '+' ends with.</summary>
    private async Task<string?> LearnRobotNamePrefixFromProjectsAsync(string fullName, CancellationToken cancellationToken)
    {
        var plus = fullName.LastIndexOf('+');
        if (plus < 2) return null;
        var head = fullName[..plus];
        string? project = null;
        var call = new HarborCall(HttpMethod.Get, "projects") { Description = $"finding the project in robot name '{fullName}'", Target = fullName };
        await foreach (var candidate in ListAsync<ProjectDto>(call, cancellationToken).ConfigureAwait(false))
            if (head.Length > candidate.Name.Length && head.EndsWith(candidate.Name, StringComparison.Ordinal) && candidate.Name.Length > (project?.Length ?? 0))
                project = candidate.Name;
        if (project is not null) LearnRobotNamePrefix(head[..^project.Length]);
        return RobotNamePrefix;
    }
}
