using System.Text.Json;
using HarborOps.Lab.Acr;
using HarborOps.Lab.Tests.Judges;
using Xunit;

namespace HarborOps.Lab.Tests.Acr;

/// <summary>
/// The judge of the ACR emulator's own API is ACR's published data-plane swagger: real ACR's recorded answers pass it
/// (with the deviations the recordings show, and no others), and an answer that breaks it fails the audit.
/// </summary>
public sealed class AcrSwaggerContractTests
{
    private const string Registry = "labacr.azurecr.io";
    private const string Created = "2026-01-02T03:04:05.0000000Z";

    public static TheoryData<string> Recordings => new() { "CanGetManifestsWithCustomPageSize(False).json", "CanGetRepositoriesWithCustomPageSize(True).json" };

    [Theory]
    [MemberData(nameof(Recordings))]
    public void Every_recorded_answer_of_a_real_ACR_meets_the_swagger_with_its_known_deviations(string recording)
    {
        using var session = JsonDocument.Parse(File.ReadAllText(AcrRecordingReplay.RecordingPath(recording)));
        var exchanges = session.RootElement.GetProperty("Entries").EnumerateArray()
            .Select(e => (Uri: new Uri(e.GetProperty("RequestUri").GetString()!), Entry: e))
            .Where(x => x.Uri.AbsolutePath.StartsWith("/acr/v1/", StringComparison.Ordinal) || x.Uri.AbsolutePath.StartsWith("/oauth2/", StringComparison.Ordinal))
            .Select(x => new AcrExchange(x.Entry.GetProperty("RequestMethod").GetString()!, x.Uri.AbsolutePath, x.Uri.Query, x.Entry.GetProperty("StatusCode").GetInt32(),
                x.Entry.GetProperty("ResponseHeaders").GetProperty("Content-Type").GetString(), x.Entry.GetProperty("ResponseBody").GetRawText()))
            .ToList();

        Assert.True(exchanges.Count >= 6, $"only {exchanges.Count} ACR answers in {recording}");
        var problems = AcrExchangeAudit.ProblemsIn(exchanges, 0);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void The_known_deviations_are_needed_the_vendored_swagger_alone_refuses_a_recorded_manifest_page()
    {
        var page = $$"""{"registry":"{{Registry}}","imageName":"library/hello-world","manifests":[{"digest":"sha256:aa","createdTime":"{{Created}}","lastUpdateTime":"{{Created}}","mediaType":"application/vnd.docker.distribution.manifest.v2+json"}]}""";
        var raw = SwaggerContract.Load(SwaggerContract.ContractPath("acr", "containerregistry-2021-07-01.json"));

        Assert.Contains(raw.ValidateResponse("GET", "/acr/v1/library%2Fhello-world/_manifests", 200, "application/json", page), p => p.Contains("mediaType", StringComparison.Ordinal));
        Assert.Empty(SwaggerContract.Acr.ValidateResponse("GET", "/acr/v1/library%2Fhello-world/_manifests", 200, "application/json", page));
    }

    [Theory]
    [InlineData("GET", "/acr/v1/team/app/_tags", 200, """{"registry":"r","imageName":"team/app","tags":[{"name":"1.0","createdTime":"2026-01-02T03:04:05Z","lastUpdateTime":"2026-01-02T03:04:05Z","changeableAttributes":{}}]}""", "digest")]
    [InlineData("GET", "/acr/v1/team/app/_tags/1.0", 200, """{"registry":"r","imageName":"team/app","tag":{"name":"1.0","digest":"sha256:aa","createdTime":"yesterday","lastUpdateTime":"2026-01-02T03:04:05Z","changeableAttributes":{}}}""", "date-time")]
    [InlineData("GET", "/acr/v1/team%2Fapp/_manifests", 200, """{"registry":"r","imageName":"team/app","manifests":[{"digest":"sha256:aa","createdTime":"2026-01-02T03:04:05Z","lastUpdateTime":"2026-01-02T03:04:05Z","architecture":"x86"}]}""", "x86")]
    [InlineData("GET", "/acr/v1/team/app/_manifests/sha256:aa", 200, """{"registry":"r","imageName":"team/app","manifest":{"digest":"sha256:aa","createdTime":"2026-01-02T03:04:05Z","lastUpdateTime":"2026-01-02T03:04:05Z","size":12}}""", "size")]
    [InlineData("GET", "/acr/v1/_catalog", 200, """{"repositories":"team/app"}""", "array")]
    [InlineData("POST", "/oauth2/token", 200, """{"access_token":"t","expires_in":4500}""", "expires_in")]
    [InlineData("POST", "/oauth2/exchange", 401, """{"errors":[{"code":"UNAUTHORIZED","message":"no","detail":null}]}""", "null")]
    public void A_broken_ACR_answer_fails_the_audit(string method, string path, int status, string body, string named)
    {
        var problems = AcrExchangeAudit.ProblemsIn([new AcrExchange(method, path, "", status, "application/json; charset=utf-8", body)], 0);

        Assert.Contains(problems, p => p.Contains(named, StringComparison.Ordinal));
    }

    [Fact]
    public void A_repository_with_a_namespace_is_one_name_in_the_swagger_whether_the_client_encoded_it_or_not()
    {
        Assert.Equal("/acr/v1/team%2Fapp%2Fweb/_tags/1.0", AcrExchangeAudit.ContractPath("/acr/v1/team/app/web/_tags/1.0"));
        Assert.Equal("/acr/v1/team%2Fapp/_manifests", AcrExchangeAudit.ContractPath("/acr/v1/team%2Fapp/_manifests"));
        Assert.Equal("/acr/v1/_catalog", AcrExchangeAudit.ContractPath("/acr/v1/_catalog"));
        Assert.Equal("/oauth2/token", AcrExchangeAudit.ContractPath("/oauth2/token"));
    }
}
