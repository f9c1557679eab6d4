using System.Text.Json;
using System.Text.Json.Nodes;
using HarborOps.Engine.MigrationJobs;
using HarborOps.Lab.Kube;
using k8s;
using k8s.Models;
using Xunit;

namespace HarborOps.Engine.Tests.MigrationJobs;

/// <summary>The objects New-RegistryMigrationJob writes, held to the Kubernetes OpenAPI and to what the entrypoint expects.</summary>
public sealed class MigrationJobManifestTests
{
    private const string ClientId = "11111111-2222-3333-4444-555555555555";

    internal static MigrationJobRequest Request(string name = "acr-to-harbor", string? schedule = null, MigrationCopyParameters? copy = null) => new()
    {
        Name = name, Namespace = "migration", ShardCount = 4, BackoffLimitPerIndex = 2,
        Image = "harbor.example.com/tools/harborops@sha256:" + new string('a', 64),
        WorkloadIdentityClientId = ClientId, HarborSecretName = "harbor-robot", Schedule = schedule,
        Copy = copy ?? new MigrationCopyParameters { Source = ["contoso.azurecr.io/team/*"], Destination = "harbor.example.com/migrated", StripPrefixSegments = 1 },
    };

    /// <summary>What the API server's schema says is wrong with an object (unknown fields included, as strict decoding names them).</summary>
    internal static List<string> ContractProblems(IKubernetesObject item, KubeResourceType type)
    {
        var body = JsonNode.Parse(KubernetesJson.Serialize(item))!.AsObject();
        var document = KubeOpenApi.Shared.DocumentOf(type);
        var schema = new JsonObject { ["$ref"] = $"#/components/schemas/{KubeOpenApi.SchemaName(document, type.Group, type.Version, type.Kind)}" };
        var errors = new List<string>();
        document.Schemas.Validate(schema, body, type.Kind, errors);
        errors.AddRange(KubeOpenApi.Shared.UnknownFields(type, body).Select(f => $"unknown field {f}"));
        return errors;
    }

    private static V1Container Container(V1JobSpec spec) => Assert.Single(spec.Template.Spec.Containers);

    private static string Env(V1Container container, string name) => Assert.Single(container.Env, e => e.Name == name).Value;

    [Fact]
    public void The_job_ServiceAccount_and_CronJob_validate_against_the_Kubernetes_OpenAPI()
    {
        var job = MigrationJobManifest.Build(Request());
        Assert.Empty(ContractProblems(job.Job!, KubeResourceType.Jobs));
        Assert.Empty(ContractProblems(job.ServiceAccount, KubeResourceType.ServiceAccounts));
        var cron = MigrationJobManifest.Build(Request(schedule: "0 */6 * * *"));
        Assert.Empty(ContractProblems(cron.CronJob!, KubeResourceType.CronJobs));
    }

    [Fact]
    public void The_job_is_indexed_with_one_completion_per_shard_and_retries_an_index_alone()
    {
        var spec = MigrationJobManifest.Build(Request()).Job!.Spec;
        Assert.Equal("Indexed", spec.CompletionMode);
        Assert.Equal(4, spec.Completions);
        Assert.Equal(4, spec.Parallelism);
        Assert.Equal(2, spec.BackoffLimitPerIndex);
        Assert.Equal("Never", spec.Template.Spec.RestartPolicy);
        var container = Container(spec);
        Assert.Equal("4", Env(container, MigrationJobContract.ShardCountVariable));
        Assert.Equal("0,1,2,3", Env(container, MigrationJobContract.ShardsVariable));
        Assert.Equal("copy", Env(container, MigrationJobContract.ModeVariable));
    }

    [Fact]
    public void The_failure_policy_fails_the_job_on_bad_configuration_the_index_on_a_parity_difference_and_ignores_evictions()
    {
        var rules = MigrationJobManifest.Build(Request()).Job!.Spec.PodFailurePolicy.Rules;
        Assert.Collection(rules,
            r => { Assert.Equal("FailJob", r.Action); Assert.Equal([MigrationJobExitCodes.BadConfiguration], r.OnExitCodes.Values); Assert.Equal(MigrationJobContract.ContainerName, r.OnExitCodes.ContainerName); },
            r => { Assert.Equal("FailIndex", r.Action); Assert.Equal([MigrationJobExitCodes.ParityDifference], r.OnExitCodes.Values); Assert.Equal("In", r.OnExitCodes.OperatorProperty); },
            r => { Assert.Equal("Ignore", r.Action); Assert.Equal("DisruptionTarget", Assert.Single(r.OnPodConditions).Type); });
        // what is worth retrying is not in any rule: it counts against backoffLimitPerIndex
        Assert.DoesNotContain(rules, r => r.OnExitCodes?.Values.Contains(MigrationJobExitCodes.Retryable) == true);
    }

    [Fact]
    public void Workload_identity_annotates_the_ServiceAccount_and_labels_the_pods_and_no_API_token_is_mounted()
    {
        var manifest = MigrationJobManifest.Build(Request());
        Assert.Equal(ClientId, manifest.ServiceAccount.Metadata.Annotations["azure.workload.identity/client-id"]);
        Assert.False(manifest.ServiceAccount.AutomountServiceAccountToken);
        var template = manifest.Job!.Spec.Template;
        Assert.Equal("true", template.Metadata.Labels["azure.workload.identity/use"]);
        Assert.Equal("harborops-migration", template.Spec.ServiceAccountName);
        Assert.False(template.Spec.AutomountServiceAccountToken);
        Assert.Equal("contoso.azurecr.io", Env(Container(manifest.Job.Spec), MigrationJobContract.AzureIdentityRegistriesVariable));

        var without = MigrationJobManifest.Build(Request() with { WorkloadIdentityClientId = null });
        Assert.Null(without.ServiceAccount.Metadata.Annotations);
        Assert.False(without.Job!.Spec.Template.Metadata.Labels.ContainsKey("azure.workload.identity/use"));
    }

    [Fact]
    public void The_Harbor_robot_comes_from_the_Secret_by_reference_and_no_secret_value_is_in_the_YAML()
    {
        var manifest = MigrationJobManifest.Build(Request());
        var container = Container(manifest.Job!.Spec);
        var password = Assert.Single(container.Env, e => e.Name == MigrationJobContract.HarborPasswordVariable);
        Assert.Null(password.Value);
        Assert.Equal("harbor-robot", password.ValueFrom.SecretKeyRef.Name);
        Assert.Equal("password", password.ValueFrom.SecretKeyRef.Key);
        Assert.Equal("username", Assert.Single(container.Env, e => e.Name == MigrationJobContract.HarborUsernameVariable).ValueFrom.SecretKeyRef.Key);
        var yaml = manifest.ToYaml();
        Assert.Contains("secretKeyRef", yaml);
        Assert.DoesNotContain("kind: Secret", yaml);
    }

    [Fact]
    public void Pods_run_as_a_numeric_non_root_user_with_a_read_only_root_and_HOME_on_an_emptyDir()
    {
        var spec = MigrationJobManifest.Build(Request()).Job!.Spec;
        var container = Container(spec);
        Assert.True(spec.Template.Spec.SecurityContext.RunAsNonRoot);
        Assert.Equal(MigrationJobContract.RunAsUser, spec.Template.Spec.SecurityContext.RunAsUser);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
        Assert.NotNull(Assert.Single(spec.Template.Spec.Volumes).EmptyDir);
        Assert.Equal(MigrationJobContract.WorkMountPath, Assert.Single(container.VolumeMounts).MountPath);
        Assert.StartsWith(MigrationJobContract.WorkMountPath + "/", Env(container, "HOME"));
        Assert.StartsWith(MigrationJobContract.WorkMountPath + "/", Env(container, "TMPDIR"));
        Assert.Equal("/dev/termination-log", container.TerminationMessagePath);
        Assert.Equal("FallbackToLogsOnError", container.TerminationMessagePolicy);
        Assert.Equal("500m", container.Resources.Requests["cpu"].ToString());
        Assert.Equal("2Gi", container.Resources.Limits["memory"].ToString());
    }

    [Fact]
    public void Hostile_copy_parameters_stay_data_in_one_JSON_variable_and_never_reach_the_command_line()
    {
        string[] hostile = ["team/\"; Remove-Item -Recurse / #", "team/$(Invoke-Expression 'whoami')", "team/a\nb; exit 0", "team/`$env:HOME'"];
        var manifest = MigrationJobManifest.Build(Request(copy: new MigrationCopyParameters
        {
            Source = hostile.Select(h => "contoso.azurecr.io/" + h).ToList(), Destination = "harbor.example.com/x'$(y)",
            Include = ["v*'; exit 3; '"], Rename = new Dictionary<string, string> { ["a\"b"] = "$(c)" },
        }));
        var container = Container(manifest.Job!.Spec);
        // the command is the fixed script path: nothing the user typed is in it
        Assert.Equal(MigrationJobContract.Command, container.Command);
        Assert.Null(container.Args);
        Assert.DoesNotContain(container.Command, part => part.Contains("-Command", StringComparison.OrdinalIgnoreCase));
        // the values travel as one JSON document and come back exactly, through the YAML too
        var yaml = manifest.ToYaml();
        var fromYaml = KubernetesYaml.LoadAllFromString(yaml).OfType<V1Job>().Single();
        var json = Env(Container(fromYaml.Spec), MigrationJobContract.CopyParametersVariable);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(hostile.Select(h => "contoso.azurecr.io/" + h), document.RootElement.GetProperty("Source").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("harbor.example.com/x'$(y)", document.RootElement.GetProperty("Destination").GetString());
        Assert.Equal("$(c)", document.RootElement.GetProperty("Rename").GetProperty("a\"b").GetString());
        Assert.Equal("v*'; exit 3; '", document.RootElement.GetProperty("Include")[0].GetString());
    }

    [Fact]
    public void A_schedule_makes_a_CronJob_that_forbids_overlapping_runs_and_syncs()
    {
        var manifest = MigrationJobManifest.Build(Request(schedule: "@daily") with { SinceWindow = TimeSpan.FromDays(2) });
        Assert.Null(manifest.Job);
        var cron = manifest.CronJob!;
        Assert.Equal("@daily", cron.Spec.Schedule);
        Assert.Equal("Forbid", cron.Spec.ConcurrencyPolicy);
        var spec = cron.Spec.JobTemplate.Spec;
        Assert.Equal("Indexed", spec.CompletionMode);
        Assert.Equal("sync", Env(Container(spec), MigrationJobContract.ModeVariable));
        Assert.Equal("172800", Env(Container(spec), MigrationJobContract.SinceWindowVariable));
        Assert.Equal(["ServiceAccount", "CronJob"], KubernetesYaml.LoadAllFromString(manifest.ToYaml()).Cast<IKubernetesObject>().Select(o => o.Kind));
    }

    public static TheoryData<string, Func<MigrationJobRequest, MigrationJobRequest>> InvalidRequests => new()
    {
        { "-Name", r => r with { Name = "Acr_To_Harbor" } },
        { "-Name", r => r with { Name = new string('a', 62) } }, // pods' hostnames "name-3" would pass 63
        { "-Name", r => r with { Name = new string('a', 53), Schedule = "@hourly" } },
        { "-Namespace", r => r with { Namespace = "Migration\n" } },
        { "-ShardCount", r => r with { ShardCount = 0 } },
        { "-ShardCount", r => r with { ShardCount = MigrationJobValidation.MaxShards + 1 } },
        { "-Schedule", r => r with { Schedule = "0 * * * *\n- name: evil" } },
        { "-Schedule", r => r with { Schedule = "every day" } },
        { "-Image", r => r with { Image = "harbor.example.com/tools/harborops:1 --privileged" } },
        { "-WorkloadIdentityClientId", r => r with { WorkloadIdentityClientId = "not-a-guid" } },
        { "-HarborSecretName", r => r with { HarborSecretName = "Harbor Robot" } },
        { "-MemoryLimit", r => r with { MemoryLimit = "2 gigabytes" } },
        { "-Source/-Destination", r => r with { Copy = r.Copy with { Source = ["oci:./layout"] } } },
        { "-SinceWindow", r => r with { SinceWindow = TimeSpan.Zero } },
        // Every scheduled run would fail its parity check (a filtered index has another digest).
        { "-Platform", r => r with { Schedule = "@daily", Copy = r.Copy with { Platform = ["linux/amd64"] } } },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public void What_Kubernetes_would_refuse_is_refused_first_naming_the_parameter(string parameter, Func<MigrationJobRequest, MigrationJobRequest> change)
    {
        var error = Assert.Throws<MigrationJobException>(() => MigrationJobManifest.Build(change(Request())));
        Assert.Equal(MigrationJobErrorIds.Invalid, error.ErrorId);
        Assert.StartsWith(parameter + ":", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
