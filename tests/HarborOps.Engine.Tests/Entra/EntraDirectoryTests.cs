using HarborOps.Engine.Entra;
using HarborOps.Lab.Graph;
using Xunit;

namespace HarborOps.Engine.Tests.Entra;

[Collection(EntraLabFixture.Name)]
public sealed class EntraDirectoryTests(EntraLabFixture lab) : IDisposable
{
    /// <summary>Every Graph response the test caused is held to Graph's OpenAPI when it ends.</summary>
    public void Dispose() => lab.GraphAudit.AssertExchangesMatchContract();

    [Fact]
    public async Task Resolves_a_group_by_name_and_by_id_after_a_real_client_credentials_sign_in()
    {
        var name = lab.Unique("team-devs");
        var id = lab.Graph.AddGroup(name);
        var before = lab.Graph.TokensIssued;
        using var directory = lab.Directory();

        Assert.Equal(new EntraGroup(id, name), await directory.ResolveGroupAsync(name, default));
        Assert.Equal(new EntraGroup(id, name), await directory.ResolveGroupAsync(id.ToUpperInvariant(), default));

        Assert.IsType<Azure.Identity.ClientSecretCredential>(directory.Credential);
        Assert.True(lab.Graph.TokensIssued > before, "the credential must have fetched its token from the emulator's token endpoint");
        var exchanges = lab.Graph.Exchanges;
        Assert.Contains(lab.Graph.Entra.Requests, x => x.Method == "POST" && x.Path == $"/{lab.Graph.TenantId}/oauth2/v2.0/token" && x.Status == 200);
        Assert.Contains(exchanges, x => x.Listener == "graph" && x.Path == "/v1.0/groups" && x.Query.Contains("displayName%20eq%20", StringComparison.Ordinal) && x.Status == 200);
    }

    [Fact]
    public async Task An_unknown_name_or_id_fails_naming_it_and_a_shared_name_lists_the_candidates()
    {
        using var directory = lab.Directory();
        var shared = lab.Unique("shared");
        var first = lab.Graph.AddGroup(shared);
        var second = lab.Graph.AddGroup(shared);

        var ambiguous = await Assert.ThrowsAsync<EntraException>(() => directory.ResolveGroupAsync(shared, default));
        Assert.Equal(EntraErrorIds.GroupAmbiguous, ambiguous.ErrorId);
        Assert.Contains(first, ambiguous.Message);
        Assert.Contains(second, ambiguous.Message);
        Assert.Equal(shared, ambiguous.Target);

        var unknownName = await Assert.ThrowsAsync<EntraException>(() => directory.ResolveGroupAsync("no-such-group", default));
        Assert.Equal(EntraErrorIds.GroupNotFound, unknownName.ErrorId);
        Assert.Contains("'no-such-group'", unknownName.Message);

        var missingId = Guid.NewGuid().ToString();
        var unknownId = await Assert.ThrowsAsync<EntraException>(() => directory.ResolveGroupAsync(missingId, default));
        Assert.Equal(EntraErrorIds.GroupNotFound, unknownId.ErrorId);
        Assert.Equal(404, unknownId.StatusCode);
        Assert.Null(await directory.FindGroupByIdAsync(missingId, default));
    }

    [Fact]
    public async Task Names_with_quotes_are_escaped_in_the_filter()
    {
        var name = lab.Unique("o'brien's team");
        var id = lab.Graph.AddGroup(name);
        using var directory = lab.Directory();
        Assert.Equal(id, (await directory.ResolveGroupAsync(name, default)).Id);
    }

    [Fact]
    public async Task A_group_with_1000_transitive_members_is_read_through_every_page()
    {
        var nested = lab.Graph.AddGroup(lab.Unique("nested"));
        lab.Graph.AddMembers(nested, Enumerable.Range(0, 400).Select(i => lab.Graph.AddUser($"Nested {i}", $"nested{i}.{nested[..8]}@lab.example")));
        var big = lab.Graph.AddGroup(lab.Unique("big"));
        lab.Graph.AddMembers(big, Enumerable.Range(0, 600).Select(i => lab.Graph.AddUser($"Direct {i}", $"direct{i}.{big[..8]}@lab.example")).Append(nested));
        var log = new List<string>();
        using var directory = lab.Directory(log, pageSize: 100);

        var users = await directory.ListTransitiveUsersAsync(new EntraGroup(big, "big"), default);

        Assert.Equal(1000, users.Count);
        Assert.Equal(1000, users.Select(u => u.Id).Distinct().Count());
        // 1,001 members (the nested group is one of them) in pages of 100: the first request and ten @odata.nextLink follow-ups.
        var pages = lab.Graph.Exchanges.Where(x => x.Path == $"/v1.0/groups/{big}/transitiveMembers").ToList();
        Assert.Equal(11, pages.Count);
        Assert.Equal(10, pages.Count(p => p.Query.Contains("skiptoken", StringComparison.Ordinal)));
        Assert.Contains(log, l => l.Contains("1000 user(s)", StringComparison.Ordinal) && l.Contains("11 page(s)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Counts_the_groups_a_user_is_in_through_the_group_cast_with_the_eventual_consistency_header_leaving_out_roles_and_administrative_units()
    {
        var user = lab.Graph.AddUser("Heavy", lab.Unique("heavy") + "@lab.example");
        var outer = lab.Graph.AddGroup(lab.Unique("outer"));
        var inner = lab.Graph.AddGroup(lab.Unique("inner"));
        var direct = lab.Graph.AddGroup(lab.Unique("direct"));
        lab.Graph.AddMembers(outer, [inner]);
        lab.Graph.AddMembers(inner, [user]);
        lab.Graph.AddMembers(direct, [user]);
        lab.Graph.AddMembers(lab.Graph.AddDirectoryRole(lab.Unique("Global Reader")), [user]);
        lab.Graph.AddMembers(lab.Graph.AddAdministrativeUnit(lab.Unique("Seattle")), [user]);
        using var directory = lab.Directory();

        Assert.Equal(3, await directory.CountTransitiveGroupsAsync(new EntraUser(user, "Heavy", null), default));
        Assert.Contains(lab.Graph.Exchanges, x => x.Path == $"/v1.0/users/{user}/transitiveMemberOf/graph.group/$count" && x.Status == 200);
    }

    [Fact]
    public async Task Members_Graph_returns_without_names_stop_the_listing_with_a_permission_failure_naming_User_ReadBasic_All()
    {
        var group = lab.Graph.AddGroup(lab.Unique("nameless"));
        lab.Graph.AddMembers(group, [lab.Graph.AddUser("Hidden Name", lab.Unique("hidden") + "@lab.example")]);
        var app = lab.Graph.RegisterApp(Guid.NewGuid().ToString(), "secret-" + Guid.NewGuid().ToString("N"), ["GroupMember.Read.All"]);
        using var directory = new EntraDirectory(lab.Options(app.ClientId, app.ClientSecret));

        var failure = await Assert.ThrowsAsync<EntraException>(() => directory.ListTransitiveUsersAsync(new EntraGroup(group, "nameless"), default));
        Assert.Equal(EntraErrorIds.PermissionDenied, failure.ErrorId);
        Assert.Contains("User.ReadBasic.All", failure.Message);
        Assert.True(failure.IsTerminating);
    }

    [Fact]
    public async Task Throttling_is_retried_after_Retry_After_by_Graphs_retry_handler_and_reported_when_it_persists()
    {
        var name = lab.Unique("throttled");
        var id = lab.Graph.AddGroup(name);
        using (var warmed = lab.Directory())
        {
            await warmed.ResolveGroupAsync(id, default);
        }

        using var directory = lab.Directory(maxRetries: 3);
        await directory.ResolveGroupAsync(id, default); // token acquired before throttling starts
        lab.Graph.ThrottleNext(2, retryAfterSeconds: 1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(name, (await directory.ResolveGroupAsync(name, default)).DisplayName);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.8), $"two Retry-After: 1 waits, took {clock.Elapsed}");
        var tail = lab.Graph.Exchanges.Where(x => x.Path == "/v1.0/groups").TakeLast(3).Select(x => x.Status);
        Assert.Equal([429, 429, 200], tail);

        using var impatient = lab.Directory(maxRetries: 1);
        await impatient.ResolveGroupAsync(id, default);
        lab.Graph.ThrottleNext(5, retryAfterSeconds: 1);
        var failure = await Assert.ThrowsAsync<EntraException>(() => impatient.ResolveGroupAsync(id, default));
        lab.Graph.ThrottleNext(0, 0);
        Assert.Equal(EntraErrorIds.Throttled, failure.ErrorId);
        Assert.Equal(429, failure.StatusCode);
    }

    [Fact]
    public async Task A_wrong_secret_is_an_authentication_failure_that_never_shows_the_secret()
    {
        var wrong = "wrong-secret-" + Guid.NewGuid().ToString("N");
        using var directory = new EntraDirectory(lab.Options(secret: wrong));
        var failure = await Assert.ThrowsAsync<EntraException>(() => directory.ResolveGroupAsync("anything", default));
        Assert.Equal(EntraErrorIds.AuthenticationFailed, failure.ErrorId);
        Assert.True(failure.IsTerminating);
        Assert.Contains("ClientSecretCredential", failure.Message);
        Assert.DoesNotContain(wrong, failure.ToString());
        Assert.DoesNotContain(lab.Graph.DefaultApp.ClientSecret, lab.Options().ToString());
    }

    [Fact]
    public async Task Signs_in_with_a_certificate_file_through_a_signed_client_assertion_and_a_foreign_certificate_is_refused()
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=harborops-team-sync", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var registered = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate.RawData);
        var app = lab.Graph.RegisterApp(Guid.NewGuid().ToString(), "unused-" + Guid.NewGuid().ToString("N"), GraphEmulator.HarborOpsRoles, registered);
        var pem = Path.Combine(Path.GetTempPath(), $"harborops-entra-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(pem, certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem());
        try
        {
            var name = lab.Unique("cert-devs");
            var id = lab.Graph.AddGroup(name);
            var options = lab.Options(app.ClientId);
            using var directory = new EntraDirectory(new EntraConnectionOptions
            {
                CredentialKind = EntraCredentialKind.ClientCertificate, TenantId = options.TenantId, ClientId = app.ClientId, CertificatePath = pem,
                AuthorityHost = options.AuthorityHost, GraphEndpoint = options.GraphEndpoint, TransportHandler = lab.Graph.CreateTrustingHandler(),
            });
            Assert.Equal(id, (await directory.ResolveGroupAsync(name, default)).Id);
            Assert.Empty(lab.Graph.Failures);
            Assert.IsType<Azure.Identity.ClientCertificateCredential>(directory.Credential);

            var stranger = lab.Graph.RegisterApp(Guid.NewGuid().ToString(), "unused-" + Guid.NewGuid().ToString("N"), GraphEmulator.HarborOpsRoles);
            using var refused = new EntraDirectory(new EntraConnectionOptions
            {
                CredentialKind = EntraCredentialKind.ClientCertificate, TenantId = options.TenantId, ClientId = stranger.ClientId, CertificatePath = pem,
                AuthorityHost = options.AuthorityHost, GraphEndpoint = options.GraphEndpoint, TransportHandler = lab.Graph.CreateTrustingHandler(),
            });
            var failure = await Assert.ThrowsAsync<EntraException>(() => refused.ResolveGroupAsync(name, default));
            Assert.Equal(EntraErrorIds.AuthenticationFailed, failure.ErrorId);
            Assert.Contains("ClientCertificateCredential", failure.Message);
        }
        catch (EntraException) when (lab.Graph.Failures.Count > 0)
        {
            Assert.Fail(string.Join("\n", lab.Graph.Failures));
        }
        finally
        {
            File.Delete(pem);
        }
    }

    [Fact]
    public async Task An_app_without_Graph_permissions_gets_Graphs_403_as_a_permission_failure_naming_the_permissions()
    {
        var app = lab.Graph.RegisterApp(Guid.NewGuid().ToString(), "secret-" + Guid.NewGuid().ToString("N"), []);
        using var directory = new EntraDirectory(lab.Options(app.ClientId, app.ClientSecret));
        var failure = await Assert.ThrowsAsync<EntraException>(() => directory.ResolveGroupAsync("anything", default));
        Assert.Equal(EntraErrorIds.PermissionDenied, failure.ErrorId);
        Assert.Equal("Authorization_RequestDenied", failure.GraphErrorCode);
        Assert.Contains("GroupMember.Read.All", failure.Message);
        Assert.True(failure.IsTerminating);
    }

    [Fact]
    public void Options_that_cannot_sign_in_fail_before_any_call()
    {
        var failure = Assert.Throws<EntraException>(() => new EntraDirectory(new EntraConnectionOptions { CredentialKind = EntraCredentialKind.ClientSecret, TenantId = "t" }));
        Assert.Equal(EntraErrorIds.OptionsInvalid, failure.ErrorId);
        Assert.Contains("-ClientId", failure.Message);
        var insecure = Assert.Throws<EntraException>(() => new EntraDirectory(new EntraConnectionOptions { GraphEndpoint = new Uri("http://graph.example") }));
        Assert.Contains("https://", insecure.Message);
    }
}
