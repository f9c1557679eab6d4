using System.Net;
using System.Net.Http.Headers;
using System.Text;
using HarborOps.Lab.Tests.Judges;
using Xunit;

namespace HarborOps.Lab.Tests.Harbor;

/// <summary>The contract validator itself: it must accept what Harbor accepts and fail a wrong shape, or the contract
/// checks of the other tests would prove nothing.</summary>
public sealed class SwaggerContractTests(HarborEmulatorFixture lab) : IClassFixture<HarborEmulatorFixture>
{
    private static readonly SwaggerContract Contract = SwaggerContract.Harbor;

    [Fact]
    public void Finds_operations_by_template_with_encoded_repository_names()
    {
        Assert.Equal("listArtifacts", Contract.Find("GET", "/api/v2.0/projects/team/repositories/api%2Fweb/artifacts")?.OperationId);
        Assert.Equal("getProject", Contract.Find("GET", "/api/v2.0/projects/team")?.OperationId);
        Assert.Equal("getProjectSummary", Contract.Find("GET", "/api/v2.0/projects/team/summary")?.OperationId);
        // A single-encoded '/' splits the path: no such operation (Harbor answers 404 too).
        Assert.Null(Contract.Find("GET", "/api/v2.0/projects/team/repositories/api/web/artifacts"));
    }

    [Fact]
    public void Accepts_the_shapes_Harbor_documents()
    {
        Assert.Empty(Contract.ValidateRequest("POST", "/api/v2.0/projects", "",
            """{"project_name":"team-a","metadata":{"public":"false","prevent_vul":"true","severity":"high"},"cve_allowlist":{"items":[{"cve_id":"CVE-1"}],"expires_at":null},"storage_limit":-1}"""));
        Assert.Empty(Contract.ValidateRequest("GET", "/api/v2.0/projects", "?page=2&page_size=100&with_detail=true", null));
        Assert.Empty(Contract.ValidateResponse("POST", "/api/v2.0/robots", 201, "application/json",
            """{"id":7,"name":"robot$team-a+ci","secret":"x","creation_time":"2026-01-02T03:04:05.000Z","expires_at":-1}"""));
    }

    [Theory]
    [InlineData("""{"project_name":"team-a","metadata":{"public":true}}""", "expected a string")]      // metadata values are strings
    [InlineData("""{"project_nam":"team-a"}""", "property 'project_nam' is not in the contract")]  // misspelt field Harbor would ignore
    [InlineData("""{"project_name":"team-a","storage_limit":"10G"}""", "expected an integer")]
    [InlineData("""["team-a"]""", "expected an object")]
    public void FailsAWrongRequestShape(string body, string expected)
    {
        var problems = Contract.ValidateRequest("POST", "/api/v2.0/projects", "", body);
        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Fails_wrong_parameters_and_responses()
    {
        Assert.Contains(Contract.ValidateRequest("GET", "/api/v2.0/projects", "?page_size=500", null), p => p.Contains("maximum", StringComparison.Ordinal));
        Assert.Contains(Contract.ValidateRequest("GET", "/api/v2.0/projects", "?with_detail=yes", null), p => p.Contains("true or false", StringComparison.Ordinal));
        Assert.Contains(Contract.ValidateRequest("POST", "/api/v2.0/robots", "", """{"name":"ci","duration":"90"}"""), p => p.Contains("duration", StringComparison.Ordinal));
        Assert.Contains(Contract.ValidateResponse("GET", "/api/v2.0/robots/1", 200, "application/json", """{"id":"seven"}"""), p => p.Contains("integer", StringComparison.Ordinal));
        Assert.Contains(Contract.ValidateResponse("GET", "/api/v2.0/robots/1", 418, "application/json", "{}"), p => p.Contains("418", StringComparison.Ordinal));
        Assert.Contains(Contract.ValidateResponse("GET", "/api/v2.0/projects/x", 200, "application/json", """{"creation_time":"yesterday"}"""), p => p.Contains("date-time", StringComparison.Ordinal));
    }

    [Fact]
    public void Fails_wrong_replication_shapes()
    {
        Assert.Contains(Contract.ValidateRequest("POST", "/api/v2.0/replication/executions", "", """{"policy_id":"7"}"""), p => p.Contains("policy_id", StringComparison.Ordinal));
        Assert.Contains(Contract.ValidateRequest("POST", "/api/v2.0/replication/policies", "", """{"name":"p","src_registry":{"id":"3"}}"""), p => p.Contains("id", StringComparison.Ordinal));
        Assert.Contains(Contract.ValidateRequest("POST", "/api/v2.0/registries", "", """{"name":"r","insecure":"no"}"""), p => p.Contains("insecure", StringComparison.Ordinal));
        Assert.Contains(Contract.ValidateResponse("GET", "/api/v2.0/replication/executions/1", 200, "application/json", """{"id":1,"total":"all"}"""), p => p.Contains("integer", StringComparison.Ordinal));
        Assert.Empty(Contract.ValidateRequest("POST", "/api/v2.0/replication/executions", "", """{"policy_id":7}"""));
    }

    [Fact]
    public async Task A_wrong_request_shape_sent_to_the_emulator_fails_the_contract_check()
    {
        lab.Audit.SkipExchanges();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(lab.Harbor.BaseUri, "api/v2.0/projects"))
        {
            // What a careless client sends: booleans where Harbor wants strings. Harbor answers 400; the check must fail too.
            Content = new StringContent("{\"project_name\":\"" + lab.Unique("shape") + "\",\"metadata\":{\"auto_scan\":true}}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{lab.Harbor.AdminUser}:{lab.Harbor.AdminPassword}")));
        request.Headers.Add("X-Request-Id", "wrong-shape");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(lab.Audit.AssertExchangesMatchContract);
        Assert.Contains("metadata.auto_scan: expected a string", failure.Message);
    }
}
