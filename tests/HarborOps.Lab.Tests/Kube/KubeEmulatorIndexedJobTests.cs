using System.Text.Json.Nodes;
using HarborOps.Lab.Kube;
using Xunit;

namespace HarborOps.Lab.Tests.Kube;

/// <summary>
/// Indexed Jobs in the emulator, judged by the real kubectl and by the Kubernetes documentation's own examples
/// (https://kubernetes.io/docs/tasks/job/pod-failure-policy/ and
/// https://kubernetes.io/docs/concepts/workloads/controllers/job/#backoff-limit-per-index): the API server's
/// validation wording from pkg/apis/batch/validation/validation.go, its defaults, and the controller's index lists.
/// </summary>
[Collection(KubeLabCollection.Name)]
public sealed class KubeEmulatorIndexedJobTests(KubeLabFixture lab) : IDisposable
{
    public void Dispose() => lab.AssertAnswersMatchContract();

    /// <summary>The documentation's job-backoff-limit-per-index-failindex example, with a lab image.</summary>
    private static string Job(string name, string extraSpec = "", string restartPolicy = "Never", string mode = "Indexed") => $"""
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: {name}
        spec:
          completions: 4
          parallelism: 2
          completionMode: {mode}
        {extraSpec}
          template:
            spec:
              restartPolicy: {restartPolicy}
              containers:
              - name: main
                image: docker.io/library/python:3
        """;

    private const string FailIndexPolicy = """
          backoffLimitPerIndex: 1
          podFailurePolicy:
            rules:
            - action: FailIndex
              onExitCodes:
                containerName: main
                operator: In
                values: [42]
        """;

    private async Task<LabKubectl.Result> ApplyAsync(string ns, string yaml)
    {
        var path = Path.Combine(lab.Directory, $"{ns}-{Guid.NewGuid():n}.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return await lab.KubectlAsync("apply", "--validate=strict", "-n", ns, "-f", path);
    }

    private async Task<JsonObject> WaitForJobAsync(string ns, string name, Func<JsonObject, bool> condition) =>
        await lab.Kube.WaitForAsync(KubeResourceType.Jobs, ns, name, condition, TimeSpan.FromSeconds(10));

    private static string? Active(JsonObject job) => job["status"]?["active"]?.ToJsonString();

    private static string? Status(JsonObject job, string field) => job["status"]?[field]?.GetValue<string>();

    [Theory]
    [InlineData("  backoffLimitPerIndex: 1\n", "NonIndexed", "Never", "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode")]
    [InlineData("  podFailurePolicy:\n    rules:\n    - action: FailIndex\n      onExitCodes: {operator: In, values: [42]}\n", "Indexed", "Never",
        "spec.podFailurePolicy.rules[0].action: Invalid value: \"FailIndex\": requires the backoffLimitPerIndex to be set")]
    [InlineData(FailIndexPolicy, "Indexed", "OnFailure", "spec.template.spec.restartPolicy: Invalid value: \"OnFailure\": only \"Never\" is supported when podFailurePolicy is specified")]
    [InlineData("  backoffLimitPerIndex: 1\n  podFailurePolicy:\n    rules:\n    - action: FailJob\n      onExitCodes: {operator: In, values: [0]}\n", "Indexed", "Never",
        "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator")]
    [InlineData("  backoffLimitPerIndex: 1\n  podFailurePolicy:\n    rules:\n    - action: FailJob\n      onExitCodes: {containerName: other, operator: In, values: [2]}\n", "Indexed", "Never",
        "spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: \"other\": must be one of the container or initContainer names in the pod template")]
    [InlineData("", "Sequential", "Never", "spec.completionMode: Unsupported value: \"Sequential\": supported values: \"NonIndexed\", \"Indexed\"")]
    public async Task What_the_API_server_refuses_in_an_Indexed_Job_is_refused_in_its_words(string extraSpec, string mode, string restartPolicy, string message)
    {
        var ns = lab.Unique("ij-invalid");
        lab.Kube.CreateNamespace(ns);
        var result = await ApplyAsync(ns, Job("refused", extraSpec.TrimEnd('\n'), restartPolicy, mode));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.StandardError);
    }

    [Fact]
    public async Task Defaults_follow_the_batch_v1_defaulting_with_a_per_index_backoff()
    {
        var ns = lab.Unique("ij-defaults");
        lab.Kube.CreateNamespace(ns);
        var result = await ApplyAsync(ns, Job("defaults", FailIndexPolicy.TrimEnd('\n')));
        Assert.True(result.ExitCode == 0, result.StandardError);
        var job = JsonNode.Parse(await lab.KubectlOkAsync("get", "job", "defaults", "-n", ns, "-o", "json"))!.AsObject();
        Assert.Equal(int.MaxValue, job["spec"]!["backoffLimit"]!.GetValue<int>());
        Assert.Equal("Failed", job["spec"]!["podReplacementPolicy"]!.GetValue<string>());
        Assert.False(job["spec"]!["suspend"]!.GetValue<bool>());
    }

    [Fact]
    public async Task The_documentations_FailIndex_example_ends_with_the_index_lists_the_documentation_shows()
    {
        // The docs: index 0 fails with exit 1 once (one retry) and then succeeds; index 1 exits 42 (FailIndex, no retry);
        // 2 and 3 succeed. Expected: completedIndexes "0,2,3", failedIndexes "1", the Job Failed (FailedIndexes).
        var ns = lab.Unique("ij-docs");
        lab.Kube.CreateNamespace(ns);
        var result = await ApplyAsync(ns, Job("job-backoff-limit-per-index-failindex", FailIndexPolicy.TrimEnd('\n')));
        Assert.True(result.ExitCode == 0, result.StandardError);
        var pods = await lab.Kube.WaitForAsync(KubeResourceType.Jobs, ns, "job-backoff-limit-per-index-failindex", j => Active(j) == "2", TimeSpan.FromSeconds(10));
        Assert.Equal("", Status(pods, "completedIndexes"));

        const string name = "job-backoff-limit-per-index-failindex";
        lab.Kube.FinishJobIndex(ns, name, 0, 1);
        lab.Kube.FinishJobIndex(ns, name, 1, 42);
        await WaitForJobAsync(ns, name, j => Status(j, "failedIndexes") == "1" && Active(j) == "2");
        lab.Kube.FinishJobIndex(ns, name, 0, 0);
        await WaitForJobAsync(ns, name, j => Status(j, "completedIndexes") == "0");
        var index2 = await lab.Kube.WaitForAsync(KubeResourceType.Jobs, ns, name, j => Active(j) == "2", TimeSpan.FromSeconds(10));
        Assert.NotNull(index2);
        lab.Kube.FinishJobIndex(ns, name, 2, 0);
        lab.Kube.FinishJobIndex(ns, name, 3, 0);
        var done = await WaitForJobAsync(ns, name, j => j["status"]?["conditions"] is JsonArray);
        Assert.Equal("0,2,3", Status(done, "completedIndexes"));
        Assert.Equal("1", Status(done, "failedIndexes"));
        Assert.Contains(done["status"]!["conditions"]!.AsArray(), c => c!["type"]!.GetValue<string>() == "Failed" && c["reason"]!.GetValue<string>() == "FailedIndexes");
        Assert.Equal("3", done["status"]!["succeeded"]!.ToJsonString());
        Assert.Equal("2", done["status"]!["failed"]!.ToJsonString());

        // what kubectl shows of it is what the API server would serve
        var text = await lab.KubectlOkAsync("get", "pods", "-n", ns, "-l", "batch.kubernetes.io/job-completion-index=0", "-o", "name");
        Assert.Equal(2, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task A_FailJob_rule_fails_the_Job_with_the_controllers_message_and_stops_its_pods()
    {
        var ns = lab.Unique("ij-failjob");
        lab.Kube.CreateNamespace(ns);
        var policy = "  backoffLimitPerIndex: 3\n  podFailurePolicy:\n    rules:\n    - action: FailJob\n      onExitCodes: {containerName: main, operator: In, values: [2]}";
        Assert.Equal(0, (await ApplyAsync(ns, Job("failjob", policy))).ExitCode);
        await WaitForJobAsync(ns, "failjob", j => Active(j) == "2");
        var pod = lab.Kube.FinishJobIndex(ns, "failjob", 1, 2, "bad configuration");
        var failed = await WaitForJobAsync(ns, "failjob", j => j["status"]?["conditions"] is JsonArray);
        var condition = failed["status"]!["conditions"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == "Failed")!;
        Assert.Equal("PodFailurePolicy", condition["reason"]!.GetValue<string>());
        Assert.Equal($"Container main for pod {ns}/{pod} failed with exit code 2 matching FailJob rule at index 0", condition["message"]!.GetValue<string>());
        Assert.DoesNotContain(lab.Kube.List(KubeResourceType.Pods, ns), p => p["status"]!["phase"]!.GetValue<string>() == "Running");
    }

    [Fact]
    public async Task The_termination_message_is_what_the_kubelet_keeps_its_first_4096_bytes()
    {
        var ns = lab.Unique("ij-message");
        lab.Kube.CreateNamespace(ns);
        Assert.Equal(0, (await ApplyAsync(ns, Job("message", FailIndexPolicy.TrimEnd('\n')))).ExitCode);
        await WaitForJobAsync(ns, "message", j => Active(j) == "2");
        var pod = lab.Kube.FinishJobIndex(ns, "message", 0, 0, new string('é', 3000));
        var stored = lab.Kube.Get(KubeResourceType.Pods, ns, pod)!;
        var message = stored["status"]!["containerStatuses"]![0]!["state"]!["terminated"]!["message"]!.GetValue<string>();
        Assert.Equal(2048, message.Length); // 4096 bytes of two-byte characters, never half of one
    }
}
