using HarborOps.Models;

namespace HarborOps.Engine.Entra;

/// <summary>The users over the threshold, and how many users were checked in all.</summary>
public sealed record GroupClaimReport(int UsersChecked, IReadOnlyList<HarborOidcGroupClaimFinding> Findings);

/// <summary>
/// Finds the users who reach a project through its Entra groups but whose tokens may carry no groups claim: Entra leaves
/// the claim out of a JWT when the user is in more than 200 groups, nested groups included (SAML's limit is 150), and puts
/// an overage pointer in its place, which Harbor does not follow (goharbor/harbor#22171), so such a user sees an empty
/// Harbor (learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-fed-group-claims, "Important"). What the
/// claim holds depends on the app's groupMembershipClaims: SecurityGroup means security groups and directory roles, All
/// adds distribution groups; administrative units never count (learn.microsoft.com/entra/identity-platform/reference-app-manifest,
/// groupMembershipClaims). The check compares the number of groups of every type the user belongs to, directly or
/// through nesting (Graph's transitiveMemberOf cast to group), with the threshold; directory roles and administrative
/// units are left out of that number, so a user holding directory roles reaches the limit that many groups earlier.
/// </summary>
public sealed class GroupClaimCheck(EntraDirectory directory)
{
    /// <summary>Entra's groups-claim limit for JWTs (OIDC id and access tokens).</summary>
    public const int JwtGroupLimit = 200;

    public async Task<GroupClaimReport> CheckAsync(string project, IReadOnlyList<EntraGroup> groups, int threshold,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        // A user in two of the project's groups is counted once and listed with both.
        var users = new Dictionary<string, (EntraUser User, SortedSet<string> Via)>(StringComparer.OrdinalIgnoreCase);
        foreach (var group in groups)
        {
            foreach (var user in await directory.ListTransitiveUsersAsync(group, cancellationToken).ConfigureAwait(false))
            {
                if (!users.TryGetValue(user.Id, out var entry)) users[user.Id] = entry = (user, new SortedSet<string>(StringComparer.Ordinal));
                entry.Via.Add(group.DisplayName);
            }
        }

        var findings = new List<HarborOidcGroupClaimFinding>();
        var done = 0;
        await Parallel.ForEachAsync(users.Values, new ParallelOptions { MaxDegreeOfParallelism = directory.MaxConcurrency, CancellationToken = cancellationToken },
            async (entry, ct) =>
            {
                var count = await directory.CountTransitiveGroupsAsync(entry.User, ct).ConfigureAwait(false);
                lock (findings)
                {
                    if (count > threshold)
                    {
                        findings.Add(new HarborOidcGroupClaimFinding
                        {
                            Project = project, UserId = entry.User.Id, UserPrincipalName = entry.User.UserPrincipalName, DisplayName = entry.User.DisplayName,
                            GroupCount = count, Threshold = threshold, ProjectGroups = entry.Via.ToList(),
                        });
                    }
                    done++;
                    progress?.Report(new OperationProgress($"Counting the Entra groups of the users of '{project}'", $"{done} of {users.Count} users", entry.User.UserPrincipalName, done, users.Count, done == users.Count));
                }
            }).ConfigureAwait(false);
        if (users.Count == 0) progress?.Report(new OperationProgress($"Counting the Entra groups of the users of '{project}'", "no users", IsComplete: true));
        return new GroupClaimReport(users.Count, findings.OrderByDescending(f => f.GroupCount).ThenBy(f => f.UserPrincipalName, StringComparer.OrdinalIgnoreCase).ToList());
    }

}
