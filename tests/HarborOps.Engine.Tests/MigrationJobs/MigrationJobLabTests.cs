using System.Text.Json.Nodes;
using HarborOps.Engine.Kube;
using HarborOps.Engine.MigrationJobs;
using HarborOps.Engine.Shards;
using HarborOps.Lab.Kube;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.MigrationJobs;

/// <summary>A migration Job created in the lab's Kubernetes emulator, its indexes ended the way shards end (a summary in
/// the termination message, an exit code the failure policy reads), and read back as Get-RegistryMigrationJob does.</summary>
[Collection(KubeLabCollection.Name)]
public sealed class MigrationJobLabTests(KubeLabFixture lab) : IDisposable
{
    public void Dispose() => lab.AssertAnswersMatchContract();

    private Task<KubeCluster> ConnectAsync() => KubeCluster.ConnectAsync(new KubeConnectionRequest { KubeconfigPath = lab.Kubeconfig, Context = KubeLabFixture.AdminContext });

    internal static string Summary(int shard, int shardCount, int copied, long bytes, params ShardFailure[] failures) => new ShardSummary
    {
        Kind = ShardSummaryKind.Copy, ShardIndex = shard, ShardCount = shardCount, Repositories = 2, Tags = copied + 1 + failures.Length,
        Copied = copied, Skipped = 1, Failed = failures.Length, BytesMoved = bytes, Started = DateTimeOffset.UtcNow.AddMinutes(-3),
        Finished = DateTimeOffset.UtcNow, Failures = failures,
    }.ToJsonString();

    /// <summary>A namespace with the Job applied (ServiceAccount first), its pods running.</summary>
    private async Task<(string Ns, MigrationJobManifest Manifest)> ApplyAsync(string prefix, int shards = 4, int backoffLimitPerIndex = 1, string? schedule = null)
    {
        var ns = lab.Unique(prefix);
        lab.Kube.CreateNamespace(ns);
        var manifest = MigrationJobManifest.Build(MigrationJobManifestTests.Request(schedule: schedule) with
        {
            Namespace = ns,
            ShardCount = shards,
            BackoffLimitPerIndex = backoffLimitPerIndex,
        });
        using var cluster = await ConnectAsync();
        await new MigrationJobApplier(cluster).ApplyAsync(manifest, CancellationToken.None);
        if (schedule is null) await WaitForPodsAsync(ns, "acr-to-harbor", shards);
        return (ns, manifest);
    }

    private async Task<List<JsonObject>> WaitForPodsAsync(string ns, string job, int running)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var pods = lab.Kube.List(KubeResourceType.Pods, ns).Where(p => p["metadata"]!["labels"]?["batch.kubernetes.io/job-name"]?.GetValue<string>() == job).ToList();
            if (pods.Count(p => p["status"]!["phase"]!.GetValue<string>() == "Running") >= running) return pods;
            Assert.True(DateTime.UtcNow < deadline, $"Job {ns}/{job} did not start {running} pods: {pods.Count} pods");
            await Task.Delay(25);
        }
    }

    private async Task<RegistryMigrationJobStatus> ReadAsync(string ns, string name = "acr-to-harbor")
    {
        using var cluster = await ConnectAsync();
        return (await new MigrationJobReader(cluster).ReadAsync(ns, name, CancellationToken.None)).Status;
    }

    private async Task<RegistryMigrationJobStatus> WaitForAsync(string ns, Func<RegistryMigrationJobStatus, bool> condition, string name = "acr-to-harbor")
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var status = await ReadAsync(ns, name);
            if (condition(status)) return status;
            Assert.True(DateTime.UtcNow < deadline, $"Job {ns}/{name} did not get there: {status.Phase} {string.Join(", ", status.Indexes.Select(i => $"{i.Index}:{i.State}"))}");
            await Task.Delay(40);
        }
    }

    [Fact]
    public async Task The_created_Job_runs_one_pod_per_index_with_its_completion_index_as_the_controller_sets_it()
    {
        var (ns, _) = await ApplyAsync("mj-pods");
        var pods = await WaitForPodsAsync(ns, "acr-to-harbor", 4);
        Assert.Equal(["0", "1", "2", "3"], pods.Select(p => p["metadata"]!["labels"]!["batch.kubernetes.io/job-completion-index"]!.GetValue<string>()).Order());
        var pod = pods[0];
        Assert.Equal("harborops-migration", pod["spec"]!["serviceAccountName"]!.GetValue<string>());
        Assert.Contains(pod["spec"]!["containers"]![0]!["env"]!.AsArray(), e => e!["name"]!.GetValue<string>() == "JOB_COMPLETION_INDEX");
        var account = lab.Kube.Get(KubeResourceType.ServiceAccounts, ns, "harborops-migration")!;
        Assert.Equal("11111111-2222-3333-4444-555555555555", account["metadata"]!["annotations"]!["azure.workload.identity/client-id"]!.GetValue<string>());

        var running = await ReadAsync(ns);
        Assert.Equal("Running", running.Phase);
        Assert.Equal(4, running.Running);
        Assert.Equal(0, running.PercentDone);
    }

    [Fact]
    public async Task Shard_summaries_add_up_and_a_finished_Job_reports_every_index()
    {
        var (ns, _) = await ApplyAsync("mj-done", shards: 3);
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 0, 0, Summary(0, 3, copied: 5, bytes: 1_000));
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 2, 0, Summary(2, 3, copied: 7, bytes: 3_000));
        var partial = await WaitForAsync(ns, s => s.Succeeded == 2);
        Assert.Equal(66, partial.PercentDone);
        Assert.Equal(12, partial.TagsCopied);
        Assert.Equal(MigrationIndexState.Running, partial.Indexes[1].State);

        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 1, 0, Summary(1, 3, copied: 1, bytes: 500));
        var done = await WaitForAsync(ns, s => s.Phase == "Complete");
        Assert.Equal((3, 0, 100, 13, 3, 4_500L), (done.Succeeded, done.Failed, done.PercentDone, done.TagsCopied, done.TagsSkipped, done.BytesMoved));
        Assert.All(done.Indexes, i => Assert.True(i.HasSummary));
        Assert.Empty(done.FailedShards);
    }

    [Fact]
    public async Task A_failed_index_is_retried_alone_until_its_backoff_limit_then_listed_with_its_error()
    {
        var (ns, _) = await ApplyAsync("mj-retry", shards: 2, backoffLimitPerIndex: 1);
        var failure = new ShardFailure("contoso.azurecr.io/team/api:v1", "RegistryThrottled", "429 after the retries");
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 1, MigrationJobExitCodes.Retryable, Summary(1, 2, 3, 10, failure));
        var retrying = await WaitForAsync(ns, s => s.Indexes[1].State == MigrationIndexState.Retrying);
        Assert.Equal(1, retrying.Indexes[1].Failures);
        Assert.Contains("RegistryThrottled", retrying.Indexes[1].Error);
        await WaitForPodsAsync(ns, "acr-to-harbor", 2);
        var replaced = await ReadAsync(ns);
        Assert.Equal((MigrationIndexState.Retrying, 1), (replaced.Indexes[1].State, replaced.Indexes[1].Failures));
        Assert.Equal(2, lab.Kube.List(KubeResourceType.Pods, ns).Count(p => p["metadata"]!["labels"]!["batch.kubernetes.io/job-completion-index"]!.GetValue<string>() == "1"));
        Assert.Equal("1", lab.Kube.Get(KubeResourceType.Pods, ns, replaced.Indexes[1].Pod!)!["metadata"]!["annotations"]!["batch.kubernetes.io/job-index-failure-count"]!.GetValue<string>());
        Assert.Contains("RegistryThrottled", replaced.Indexes[1].Error); // what the failed attempt left, while the retry runs

        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 1, MigrationJobExitCodes.Retryable, Summary(1, 2, 0, 0, failure));
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 0, 0, Summary(0, 2, 4, 100));
        var failed = await WaitForAsync(ns, s => s.Phase == "Failed");
        Assert.Equal("FailedIndexes: Job has failed indexes", failed.FailureReason);
        Assert.Equal([1], failed.FailedShards);
        Assert.Equal(MigrationIndexState.Failed, failed.Indexes[1].State);
        Assert.Equal(MigrationIndexState.Succeeded, failed.Indexes[0].State);
        Assert.Equal("1", lab.Kube.Get(KubeResourceType.Jobs, ns, "acr-to-harbor")!["status"]!["failedIndexes"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bad_configuration_fails_the_whole_Job_at_once_through_the_failure_policy()
    {
        var (ns, _) = await ApplyAsync("mj-badconfig", shards: 3, backoffLimitPerIndex: 5);
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 2, MigrationJobExitCodes.BadConfiguration, "harborops-shard: HARBOROPS_COPY_PARAMETERS names 'Force'");
        var failed = await WaitForAsync(ns, s => s.Phase == "Failed");
        Assert.StartsWith("PodFailurePolicy: Container harborops for pod", failed.FailureReason);
        Assert.Equal([0, 1, 2], failed.FailedShards);
        var index = failed.Indexes[2];
        Assert.Equal(MigrationJobExitCodes.BadConfiguration, index.ExitCode);
        Assert.False(index.HasSummary);
        Assert.Contains("bad input or configuration", index.Error);
        Assert.Contains("names 'Force'", index.Error);
        Assert.Equal([2], failed.UnreadableSummaries);
    }

    [Fact]
    public async Task A_parity_difference_fails_its_index_without_a_retry_while_the_others_finish()
    {
        var (ns, _) = await ApplyAsync("mj-parity", shards: 2, backoffLimitPerIndex: 3);
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 0, MigrationJobExitCodes.ParityDifference, Summary(0, 2, 2, 20));
        var afterFailIndex = await WaitForAsync(ns, s => s.Indexes[0].State == MigrationIndexState.Failed);
        Assert.Equal("Running", afterFailIndex.Phase);
        Assert.Single(lab.Kube.List(KubeResourceType.Pods, ns), p => p["metadata"]!["labels"]!["batch.kubernetes.io/job-completion-index"]!.GetValue<string>() == "0");
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 1, 0, Summary(1, 2, 2, 20));
        var done = await WaitForAsync(ns, s => s.Phase == "Failed");
        Assert.Equal([0], done.FailedShards);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"version\":1,\"kind\":\"copy\",\"shardIndex\":0,\"shardCount\":1,\"copied\":\"many\"}")]
    [InlineData("{\"version\":99}")]
    [InlineData("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]")]
    public async Task A_termination_message_that_is_not_a_summary_is_reported_unreadable_not_a_crash(string message)
    {
        var (ns, _) = await ApplyAsync("mj-garbage", shards: 2);
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 0, 0, message + "\n\u001b[31mred\u0007");
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 1, 0, Summary(1, 2, 3, 30));
        var done = await WaitForAsync(ns, s => s.Phase == "Complete");
        Assert.Equal([0], done.UnreadableSummaries);
        Assert.False(done.Indexes[0].HasSummary);
        Assert.NotNull(done.Indexes[0].Error);
        Assert.DoesNotContain(done.Indexes[0].Error!, c => char.IsControl(c));
        Assert.Equal(3, done.TagsCopied);
    }

    [Fact]
    public async Task A_hostile_Job_status_and_pod_labels_are_bounded_by_the_Jobs_own_indexes()
    {
        var (ns, _) = await ApplyAsync("mj-hostile", shards: 3);
        var pods = await WaitForPodsAsync(ns, "acr-to-harbor", 3);
        lab.Kube.SetJobStatus(ns, "acr-to-harbor", new JsonObject
        {
            ["completedIndexes"] = "0-2147483647,1-999999999,x,-4", ["failedIndexes"] = "2,2,2,7-1", ["active"] = 1,
            ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Failed", ["status"] = "True", ["reason"] = "Evil\nReason", ["message"] = new string('m', 5000) }),
        });
        var status = await ReadAsync(ns);
        Assert.Equal(3, status.Total);
        Assert.Equal([1, 2], status.Indexes.Where(i => i.State == MigrationIndexState.Succeeded).Select(i => i.Index));
        Assert.Equal([0], status.FailedShards);
        Assert.True(status.FailureReason!.Length <= 400);
        Assert.DoesNotContain('\n', status.FailureReason);
        // a pod claiming an index the Job does not have is not one of its shards
        var stray = pods[0]["metadata"]!["name"]!.GetValue<string>();
        var podStatus = (JsonObject)pods[0]["status"]!.DeepClone();
        lab.Kube.SetPodStatus(ns, stray, podStatus);
        Assert.Equal(3, (await ReadAsync(ns)).Indexes.Length);
    }

    [Fact]
    public async Task The_failed_shards_of_a_finished_Job_run_again_alone_in_a_new_Job()
    {
        var (ns, _) = await ApplyAsync("mj-rerun", shards: 4, backoffLimitPerIndex: 0);
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 0, 0, Summary(0, 4, 1, 1));
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 1, MigrationJobExitCodes.Retryable, "boom");
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 2, 0, Summary(2, 4, 1, 1));
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor", 3, MigrationJobExitCodes.Retryable, "boom");
        await WaitForAsync(ns, s => s.Phase == "Failed");

        using var cluster = await ConnectAsync();
        var reader = new MigrationJobReader(cluster);
        var (status, job) = await reader.ReadAsync(ns, "acr-to-harbor", CancellationToken.None);
        var rerun = MigrationJobReader.PlanRerun(status, job, await reader.JobNamesAsync(ns, CancellationToken.None));
        Assert.Equal("acr-to-harbor-rerun-1", rerun.Metadata.Name);
        Assert.Empty(MigrationJobManifestTests.ContractProblems(rerun, KubeResourceType.Jobs));
        await new MigrationJobApplier(cluster).CreateJobAsync(rerun, CancellationToken.None);
        var pods = await WaitForPodsAsync(ns, "acr-to-harbor-rerun-1", 2);
        var env = pods[0]["spec"]!["containers"]![0]!["env"]!.AsArray();
        Assert.Equal("1,3", env.Single(e => e!["name"]!.GetValue<string>() == MigrationJobContract.ShardsVariable)!["value"]!.GetValue<string>());

        lab.Kube.FinishJobIndex(ns, "acr-to-harbor-rerun-1", 0, 0, Summary(1, 4, 2, 2));
        lab.Kube.FinishJobIndex(ns, "acr-to-harbor-rerun-1", 1, 0, Summary(3, 4, 2, 2));
        var done = await WaitForAsync(ns, s => s.Phase == "Complete", "acr-to-harbor-rerun-1");
        Assert.Equal([1, 3], done.Indexes.Select(i => i.Shard));
        Assert.Equal(4, done.ShardCount);

        var again = MigrationJobReader.PlanRerun(status, job, ["acr-to-harbor-rerun-1"]);
        Assert.Equal("acr-to-harbor-rerun-2", again.Metadata.Name);
    }

    [Fact]
    public async Task A_running_Job_is_not_re_run_since_its_controller_retries_failed_indexes_itself()
    {
        var (ns, _) = await ApplyAsync("mj-norerun", shards: 2);
        using var cluster = await ConnectAsync();
        var (status, job) = await new MigrationJobReader(cluster).ReadAsync(ns, "acr-to-harbor", CancellationToken.None);
        var error = Assert.Throws<MigrationJobException>(() => MigrationJobReader.PlanRerun(status, job, []));
        Assert.Equal(MigrationJobErrorIds.NothingToRerun, error.ErrorId);
    }

    [Fact]
    public async Task The_CronJob_is_created_and_each_run_is_an_Indexed_Job_of_all_shards()
    {
        var (ns, _) = await ApplyAsync("mj-cron", shards: 2, schedule: "0 */6 * * *");
        var cron = lab.Kube.Get(KubeResourceType.CronJobs, ns, "acr-to-harbor")!;
        Assert.Equal("Forbid", cron["spec"]!["concurrencyPolicy"]!.GetValue<string>());
        var run = lab.Kube.RunCronJob(ns, "acr-to-harbor");
        await WaitForPodsAsync(ns, run, 2);
        var status = await ReadAsync(ns, run);
        Assert.Equal(2, status.Total);
        Assert.Equal(2, status.ShardCount);
    }

    [Fact]
    public async Task Given_the_CronJob_s_name_the_latest_run_it_owns_is_reported_and_none_yet_is_a_clear_error()
    {
        var (ns, _) = await ApplyAsync("mj-cron-latest", shards: 2, schedule: "0 */6 * * *");
        using var cluster = await ConnectAsync();
        var none = await Assert.ThrowsAsync<MigrationJobException>(() => new MigrationJobReader(cluster).StatusAsync(ns, "acr-to-harbor", CancellationToken.None));
        Assert.Equal(MigrationJobErrorIds.NoRunYet, none.ErrorId);
        Assert.Contains("kubectl create job --from=cronjob/acr-to-harbor", none.Message);

        // Hostile: a newer Job that names the CronJob as owner, but another CronJob's uid, is not one of its runs.
        var cron = lab.Kube.Get(KubeResourceType.CronJobs, ns, "acr-to-harbor")!;
        var first = lab.Kube.RunCronJob(ns, "acr-to-harbor");
        var second = lab.Kube.RunCronJob(ns, "acr-to-harbor");
        var template = (JsonObject)cron["spec"]!["jobTemplate"]!["spec"]!.DeepClone();
        await Task.Delay(1100); // creationTimestamp has whole seconds: the impostor is strictly newer
        lab.Kube.Create(KubeResourceType.Jobs, new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = "acr-to-harbor-impostor",
                ["ownerReferences"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = "batch/v1", ["kind"] = "CronJob", ["name"] = "acr-to-harbor",
                    ["uid"] = Guid.NewGuid().ToString(), ["controller"] = true,
                }),
            },
            ["spec"] = template,
        }, ns);

        var status = await new MigrationJobReader(cluster).StatusAsync(ns, "acr-to-harbor", CancellationToken.None);

        Assert.NotEqual(first, second);
        Assert.Equal((second, "acr-to-harbor", 2), (status.Name, status.CronJob, status.Total));
    }

    [Fact]
    public async Task A_name_that_is_neither_a_Job_nor_a_CronJob_is_the_Job_s_not_found_error()
    {
        var (ns, _) = await ApplyAsync("mj-nothing", shards: 1);
        using var cluster = await ConnectAsync();
        var error = await Assert.ThrowsAsync<KubeException>(() => new MigrationJobReader(cluster).StatusAsync(ns, "no-such-migration", CancellationToken.None));
        Assert.Equal(KubeErrorIds.NotFound, error.ErrorId);
        Assert.Contains("no-such-migration", error.Message);
    }

    [Fact]
    public async Task Applying_again_keeps_the_ServiceAccount_and_refuses_to_replace_the_Job()
    {
        var (ns, manifest) = await ApplyAsync("mj-again", shards: 1);
        using var cluster = await ConnectAsync();
        var error = await Assert.ThrowsAsync<KubeException>(() => new MigrationJobApplier(cluster).ApplyAsync(manifest, CancellationToken.None));
        Assert.Equal(KubeErrorIds.AlreadyExists, error.ErrorId);
        Assert.NotNull(lab.Kube.Get(KubeResourceType.ServiceAccounts, ns, "harborops-migration"));
    }

    [Fact]
    public async Task Kubectl_applies_the_generated_YAML_with_validation_on()
    {
        var ns = lab.Unique("mj-kubectl");
        lab.Kube.CreateNamespace(ns);
        var yaml = MigrationJobManifest.Build(MigrationJobManifestTests.Request() with { Namespace = ns }).ToYaml();
        var cronYaml = MigrationJobManifest.Build(MigrationJobManifestTests.Request(name: "acr-sync", schedule: "@hourly") with { Namespace = ns, ServiceAccountName = "sync" }).ToYaml();
        var path = Path.Combine(lab.Directory, $"{ns}.yaml");
        await File.WriteAllTextAsync(path, yaml + "---\n" + cronYaml);
        var output = await lab.KubectlOkAsync("apply", "--validate=strict", "-f", path);
        Assert.Contains("job.batch/acr-to-harbor created", output);
        Assert.Contains("cronjob.batch/acr-sync created", output);
        Assert.Contains("serviceaccount/harborops-migration created", output);
        await WaitForPodsAsync(ns, "acr-to-harbor", 4);
    }
}
