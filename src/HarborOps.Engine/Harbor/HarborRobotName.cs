namespace HarborOps.Engine.Harbor;

/// <summary>
/// A v2 robot's full name split into its parts: Harbor names robots &lt;prefix&gt;&lt;project&gt;+&lt;name&gt; (project level) or
/// &lt;prefix&gt;&lt;name&gt; (system level), where the prefix is the system setting robot_name_prefix (robot$ by default,
/// often changed because '$' breaks shells and CI variables). Project and robot names cannot hold '+', so once the
/// prefix is off, a '+' can only separate the project from the name.
/// </summary>
public sealed record HarborRobotName(string Prefix, string? Project, string Name)
{
    /// <summary>What Harbor stores and looks the robot up by: project+name or name.</summary>
    public string StoredName => Project is null ? Name : $"{Project}+{Name}";
    public string FullName => Prefix + StoredName;

    /// <summary>The parts of <paramref name="fullName"/> under <paramref name="prefix"/>, or null when it does not carry the prefix.</summary>
    public static HarborRobotName? Split(string fullName, string prefix)
    {
        ArgumentNullException.ThrowIfNull(fullName);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (!fullName.StartsWith(prefix, StringComparison.Ordinal) || fullName.Length == prefix.Length) return null;
        var stored = fullName[prefix.Length..];
        var plus = stored.IndexOf('+');
        return plus > 0 && plus < stored.Length - 1 ? new HarborRobotName(prefix, stored[..plus], stored[(plus + 1)..])
            : plus < 0 ? new HarborRobotName(prefix, null, stored)
            : null;
    }

    /// <summary>The name part of a robot's full name: after the prefix when it is known (or Harbor's default when none is
    /// and the name carries it), else after a project's '+'; the full name when neither tells.</summary>
    public static string ShortNameOf(string fullName, string? prefix)
    {
        ArgumentNullException.ThrowIfNull(fullName);
        prefix ??= fullName.StartsWith(HarborConnection.DefaultRobotPrefix, StringComparison.Ordinal) ? HarborConnection.DefaultRobotPrefix : null;
        if (prefix is { Length: > 0 } && Split(fullName, prefix) is { } parts) return parts.Name;
        var plus = fullName.LastIndexOf('+');
        return plus >= 0 ? fullName[(plus + 1)..] : fullName;
    }

    /// <summary>The prefix a full name carries when its stored name is known (what Harbor returned beside what was asked
    /// for), or null when the full name does not end with it.</summary>
    public static string? PrefixOf(string fullName, string storedName)
    {
        ArgumentNullException.ThrowIfNull(fullName);
        ArgumentNullException.ThrowIfNull(storedName);
        return storedName.Length > 0 && fullName.Length > storedName.Length && fullName.EndsWith(storedName, StringComparison.Ordinal)
            ? fullName[..^storedName.Length]
            : null;
    }
}
