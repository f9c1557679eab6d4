namespace HarborOps.Lab.Graph;

/// <summary>The kinds of directory object the lab holds: the @odata.type's last segment.</summary>
public static class LabObjectKinds
{
    public const string User = "user";
    public const string Group = "group";
    /// <summary>An activated Entra role (Global Reader...): users and role-assignable groups can be members.</summary>
    public const string DirectoryRole = "directoryRole";
    /// <summary>An administrative unit: users and groups can be members; never part of a groups claim.</summary>
    public const string AdministrativeUnit = "administrativeUnit";

    /// <summary>The kinds that have members (and so appear in a user's transitiveMemberOf).</summary>
    public static bool IsContainer(string kind) => kind is Group or DirectoryRole or AdministrativeUnit;
}

/// <summary>A user, group, directory role or administrative unit of the lab directory.</summary>
internal sealed class LabDirectoryObject(string id, string kind, string displayName, string? userPrincipalName)
{
    public string Id { get; } = id;
    /// <summary>One of <see cref="LabObjectKinds"/>.</summary>
    public string Kind { get; } = kind;
    public string DisplayName { get; } = displayName;
    public string? UserPrincipalName { get; } = userPrincipalName;
    /// <summary>Direct members (containers only).</summary>
    public List<string> Members { get; } = [];
}

/// <summary>
/// The lab tenant's directory: objects and memberships, and the transitive views Graph computes from them. Thread-safe:
/// the emulator's requests and the tests' set-up calls meet here.
/// </summary>
internal sealed class LabDirectory
{
    private readonly object _gate = new();
    private readonly Dictionary<string, LabDirectoryObject> _objects = new(StringComparer.OrdinalIgnoreCase);

    public string Add(string kind, string displayName, string? userPrincipalName, string? id)
    {
        lock (_gate)
        {
            var added = new LabDirectoryObject(id ?? Guid.NewGuid().ToString(), kind, displayName, userPrincipalName);
            _objects.Add(added.Id, added);
            return added.Id;
        }
    }

    /// <summary>Direct members of a group, directory role or administrative unit (nesting only through groups, as in Entra).</summary>
    public void AddMembers(string containerId, IEnumerable<string> memberIds)
    {
        lock (_gate)
        {
            var container = _objects.TryGetValue(containerId, out var c) && LabObjectKinds.IsContainer(c.Kind) ? c : throw new ArgumentException($"no group, directory role or administrative unit {containerId}");
            foreach (var id in memberIds)
            {
                var member = _objects.TryGetValue(id, out var m) ? m : throw new ArgumentException($"no directory object {id}");
                if (member.Kind is not (LabObjectKinds.User or LabObjectKinds.Group))
                    throw new ArgumentException($"a {member.Kind} cannot be a member of a {container.Kind}");
                if (!container.Members.Contains(id, StringComparer.OrdinalIgnoreCase)) container.Members.Add(id);
            }
        }
    }

    public void RemoveMember(string containerId, string memberId)
    {
        lock (_gate)
        {
            if (_objects.TryGetValue(containerId, out var container)) container.Members.RemoveAll(m => string.Equals(m, memberId, StringComparison.OrdinalIgnoreCase));
        }
    }

    public LabDirectoryObject? Find(string id, string kind)
    {
        lock (_gate) return _objects.TryGetValue(id, out var found) && found.Kind == kind ? found : null;
    }

    public List<LabDirectoryObject> GroupsNamed(string displayName)
    {
        lock (_gate)
        {
            return _objects.Values.Where(o => o.Kind == LabObjectKinds.Group && string.Equals(o.DisplayName, displayName, StringComparison.OrdinalIgnoreCase))
                .OrderBy(o => o.Id, StringComparer.Ordinal).ToList();
        }
    }

    public List<LabDirectoryObject> DirectMembers(LabDirectoryObject container)
    {
        lock (_gate) return container.Members.Select(id => _objects[id]).ToList();
    }

    /// <summary>Every member reached through nested groups, each once, groups included (as Graph lists them).</summary>
    public List<LabDirectoryObject> TransitiveMembers(LabDirectoryObject container)
    {
        lock (_gate) return TransitiveMembersLocked(container).ToList();
    }

    /// <summary>
    /// The groups, directory roles and administrative units an object belongs to directly or through nested groups:
    /// what /users/{id}/transitiveMemberOf lists (learn.microsoft.com/graph/api/user-list-transitivememberof), in id order.
    /// </summary>
    public List<LabDirectoryObject> TransitiveMemberOf(LabDirectoryObject member)
    {
        lock (_gate)
        {
            return _objects.Values.Where(o => LabObjectKinds.IsContainer(o.Kind) && TransitiveMembersLocked(o).Any(m => m.Id == member.Id))
                .OrderBy(o => o.Id, StringComparer.Ordinal).ToList();
        }
    }

    private IEnumerable<LabDirectoryObject> TransitiveMembersLocked(LabDirectoryObject container)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { container.Id };
        var queue = new Queue<LabDirectoryObject>([container]);
        while (queue.Count > 0)
        {
            foreach (var id in queue.Dequeue().Members)
            {
                if (!seen.Add(id)) continue;
                var member = _objects[id];
                yield return member;
                if (member.Kind == LabObjectKinds.Group) queue.Enqueue(member);
            }
        }
    }
}
