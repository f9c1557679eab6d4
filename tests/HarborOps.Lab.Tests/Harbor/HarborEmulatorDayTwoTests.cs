using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using HarborOps.Lab.Tests.Judges;
using Xunit;

namespace HarborOps.Lab.Tests.Harbor;

/// <summary>
/// The emulator's day-2 endpoints (health, GC, retention, immutable tag rules) driven with raw HTTP, not HarborOps'
/// client, and judged by Harbor's swagger; and the judge's day-2 deviations, which must still fail a wrong shape.
/// </summary>
public sealed class HarborEmulatorDayTwoTests(HarborEmulatorFixture lab) : IClassFixture<HarborEmulatorFixture>, IDisposable
{
    private static readonly SwaggerContract Contract = SwaggerContract.Harbor;
    private readonly HttpClient _http = new(new HttpClientHandler { UseCookies = false });

    public void Dispose()
    {
        _http.Dispose();
        lab.Audit.AssertExchangesMatchContract();
    }

    private async Task<(HttpStatusCode Status, string Body, string? Location)> SendAsync(HttpMethod method, string path, string? json = null, bool anonymous = false)
    {
        using var request = new HttpRequestMessage(method, new Uri(lab.Harbor.BaseUri, "api/v2.0/" + path));
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (!anonymous)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{lab.Harbor.AdminUser}:{lab.Harbor.AdminPassword}")));
        request.Headers.Add("X-Request-Id", Guid.NewGuid().ToString());
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task Health_answers_anyone_and_GC_answers_only_an_admin()
    {
        var health = await SendAsync(HttpMethod.Get, "health", anonymous: true);
        var gc = await SendAsync(HttpMethod.Get, "system/gc", anonymous: true);
        var volumes = await SendAsync(HttpMethod.Get, "systeminfo/volumes", anonymous: true);

        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.Equal("healthy", JsonNode.Parse(health.Body)!["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, gc.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, volumes.Status);
    }

    [Fact]
    public async Task A_manual_GC_answers_201_with_the_runs_location_and_its_parameters_without_redis()
    {
        var started = await SendAsync(HttpMethod.Post, "system/gc/schedule", """{"schedule":{"type":"Manual"},"parameters":{"dry_run":true,"workers":3}}""");
        Assert.Equal(HttpStatusCode.Created, started.Status);
        var run = JsonNode.Parse((await SendAsync(HttpMethod.Get, started.Location!["/api/v2.0/".Length..])).Body)!;
        var parameters = JsonNode.Parse(run["job_parameters"]!.GetValue<string>())!;

        Assert.Equal(("GARBAGE_COLLECTION", "MANUAL", "Manual"), (run["job_name"]!.GetValue<string>(), run["job_kind"]!.GetValue<string>(), run["schedule"]!["type"]!.GetValue<string>()));
        Assert.True(parameters["dry_run"]!.GetValue<bool>());
        Assert.Equal(3, parameters["workers"]!.GetValue<int>());
        Assert.Null(parameters["redis_url_reg"]);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Post, "system/gc/schedule", """{"schedule":{"type":"Manual"},"parameters":{"workers":0}}""")).Status);
    }

    [Fact]
    public async Task Retention_is_one_policy_per_project_and_its_dry_run_writes_a_task_log_per_repository()
    {
        var project = lab.Unique("retention");
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "projects", $$"""{"project_name":"{{project}}"}""")).Status);
        await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, project + "/app", "v1", new LabImageOptions { LayerSize = 128 });
        var id = JsonNode.Parse((await SendAsync(HttpMethod.Get, $"projects/{project}")).Body)!["project_id"]!.GetValue<int>();
        var policy = $$$"""{"algorithm":"or","rules":[{"action":"retain","template":"latestPushedK","params":{"latestPushedK":0},"tag_selectors":[{"kind":"doublestar","decoration":"matches","pattern":"**"}],"scope_selectors":{"repository":[{"kind":"doublestar","decoration":"repoMatches","pattern":"**"}]}}],"trigger":{"kind":"Schedule","settings":{}},"scope":{"level":"project","ref":{{{id}}}}}""";

        var created = await SendAsync(HttpMethod.Post, "retentions", policy);
        var again = await SendAsync(HttpMethod.Post, "retentions", policy);
        var retentionId = created.Location!.Split('/')[^1];
        var execution = await SendAsync(HttpMethod.Post, $"retentions/{retentionId}/executions", """{"dry_run":true}""");
        var tasks = JsonNode.Parse((await SendAsync(HttpMethod.Get, $"retentions/{retentionId}/executions/{execution.Location!.Split('/')[^1]}/tasks")).Body)!.AsArray();
        var log = await SendAsync(HttpMethod.Get, $"retentions/{retentionId}/executions/{execution.Location!.Split('/')[^1]}/tasks/{tasks[0]!["id"]}");

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal(HttpStatusCode.BadRequest, again.Status);
        Assert.Contains("already has retention policy", again.Body, StringComparison.Ordinal);
        Assert.Equal(retentionId, JsonNode.Parse((await SendAsync(HttpMethod.Get, $"projects/{project}")).Body)!["metadata"]!["retention_id"]!.GetValue<string>());
        Assert.Equal("app", Assert.Single(tasks)!["repository"]!.GetValue<string>());
        Assert.Matches(@"\| sha256:[0-9a-f]{64} \| v1 \| image \|.*\| DEL \|", log.Body);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"projects/{project}/repositories/app/artifacts/v1")).Status);
    }

    [Theory]
    [InlineData("""{"schedule":{"type":"Manual"},"parameters":{"dry_run":{"nested":true}}}""", "boolean, number or string")]
    [InlineData("""{"schedule":{"type":"Manual","cron":5}}""", "expected a string")]
    public void The_schedule_deviation_still_fails_a_wrong_shape(string body, string expected) =>
        Assert.Contains(Contract.ValidateRequest("POST", "/api/v2.0/system/gc/schedule", "", body), p => p.Contains(expected, StringComparison.Ordinal));

    [Fact]
    public void The_retention_and_text_deviations_still_fail_a_wrong_shape()
    {
        Assert.Contains(Contract.ValidateRequest("POST", "/api/v2.0/retentions", "", """{"rules":[{"template":"latestPushedK","params":{"latestPushedK":"3"}}]}"""),
            p => p.Contains("read a number", StringComparison.Ordinal));
        Assert.Contains(Contract.ValidateResponse("GET", "/api/v2.0/system/gc/1/log", 200, "application/json", "{}"), p => p.Contains("text/plain", StringComparison.Ordinal));
        Assert.Empty(Contract.ValidateResponse("GET", "/api/v2.0/system/gc/1/log", 200, "text/plain; charset=utf-8", "any text"));
        Assert.Contains(Contract.ValidateResponse("GET", "/api/v2.0/system/gc/schedule", 200, "application/json", "not json"), p => p.Contains("not JSON", StringComparison.Ordinal));
        Assert.Empty(Contract.ValidateResponse("GET", "/api/v2.0/system/gc/schedule", 200, null, ""));
    }
}
