using System.Globalization;
using System.Text.Json;
using k8s;
using k8s.Models;
using static HarborOps.Engine.MigrationJobs.MigrationJobContract;

namespace HarborOps.Engine.MigrationJobs;

/// <summary>
/// The Kubernetes objects of one migration: a ServiceAccount set up for Azure workload identity, and an Indexed Job
/// (or a CronJob whose Jobs are Indexed) with one completion per shard. Built as KubernetesClient models, so the same
/// objects are written as YAML and created through the API.
/// </summary>
/// <remarks>
/// The Job follows the Kubernetes documentation of Indexed Jobs and per-index retries
/// (https://kubernetes.io/docs/concepts/workloads/controllers/job/#backoff-limit-per-index and
/// https://kubernetes.io/docs/tasks/job/pod-failure-policy/): completionMode Indexed, completions = parallelism = shards,
/// backoffLimitPerIndex, restartPolicy Never (a podFailurePolicy requires it), and a policy whose rules fail the Job on
/// bad configuration (exit 2), fail the index on a parity difference (exit 3, FailIndex needs backoffLimitPerIndex) and
/// ignore disruptions (DisruptionTarget: eviction, preemption), as the documentation's example does. Workload identity
/// follows https://azure.github.io/azure-workload-identity/docs/topics/service-account-labels-and-annotations.html:
/// the client-id annotation on the ServiceAccount and the azure.workload.identity/use label on the pod.
/// </remarks>
public sealed class MigrationJobManifest
{
    private static readonly JsonSerializerOptions ParameterJson = new()
    {
        PropertyNamingPolicy = null, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private MigrationJobManifest(V1ServiceAccount serviceAccount, V1Job? job, V1CronJob? cronJob)
    {
        ServiceAccount = serviceAccount;
        Job = job;
        CronJob = cronJob;
    }

    public V1ServiceAccount ServiceAccount { get; }
    /// <summary>The Job; null when <see cref="CronJob"/> is set.</summary>
    public V1Job? Job { get; }
    public V1CronJob? CronJob { get; }

    /// <summary>The objects in the order they must be created.</summary>
    public IReadOnlyList<IKubernetesObject> Objects => [ServiceAccount, (IKubernetesObject?)Job ?? CronJob!];

    /// <summary>All objects as one multi-document YAML stream.</summary>
    public string ToYaml() => string.Join("---\n", Objects.Select(o => KubernetesYaml.Serialize(o).TrimEnd('\n') + "\n"));

    /// <summary>Writes <paramref name="yaml"/> to <paramref name="path"/> (replacing the file), or fails with <see cref="MigrationJobErrorIds.WriteFailed"/>.</summary>
    public static async Task WriteYamlAsync(string path, string yaml, CancellationToken cancellationToken)
    {
        try
        {
            await File.WriteAllTextAsync(path, yaml, new System.Text.UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MigrationJobException(MigrationJobErrorIds.WriteFailed, Errors.FailureKind.InvalidArgument,
                $"Cannot write the Job's YAML to {path}: {e.Message}", path, e);
        }
    }

    /// <summary>Validates the request (<see cref="MigrationJobErrorIds.Invalid"/>) and builds the objects.</summary>
    public static MigrationJobManifest Build(MigrationJobRequest request)
    {
        MigrationJobValidation.Validate(request);
        var shards = Enumerable.Range(0, request.ShardCount).ToList();
        var spec = JobSpec(request, shards, request.Schedule is null ? "copy" : "sync");
        var labels = Labels(request.Name);
        var serviceAccount = ServiceAccountFor(request);
        if (request.Schedule is null)
        {
            var job = new V1Job
            {
                ApiVersion = "batch/v1", Kind = "Job",
                Metadata = new V1ObjectMeta { Name = request.Name, NamespaceProperty = request.Namespace, Labels = labels, Annotations = ShardAnnotations(request.ShardCount, shards) },
                Spec = spec,
            };
            return new MigrationJobManifest(serviceAccount, job, null);
        }
        var cronJob = new V1CronJob
        {
            ApiVersion = "batch/v1", Kind = "CronJob",
            Metadata = new V1ObjectMeta { Name = request.Name, NamespaceProperty = request.Namespace, Labels = labels },
            Spec = new V1CronJobSpec
            {
                Schedule = request.Schedule,
                // one run at a time: a run still copying when the next is due must not race it
                ConcurrencyPolicy = "Forbid",
                StartingDeadlineSeconds = 3600,
                SuccessfulJobsHistoryLimit = 3,
                FailedJobsHistoryLimit = 3,
                JobTemplate = new V1JobTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = Labels(request.Name), Annotations = ShardAnnotations(request.ShardCount, shards) },
                    Spec = spec,
                },
            },
        };
        return new MigrationJobManifest(serviceAccount, null, cronJob);
    }

    internal static Dictionary<string, string> Labels(string name) => new()
    {
        ["app.kubernetes.io/name"] = "harborops",
        ["app.kubernetes.io/component"] = "migration",
        ["app.kubernetes.io/managed-by"] = "HarborOps",
        [MigrationLabel] = name,
    };

    internal static Dictionary<string, string> ShardAnnotations(int shardCount, IReadOnlyList<int> shards) => new()
    {
        [ShardCountAnnotation] = shardCount.ToString(CultureInfo.InvariantCulture),
        [ShardsAnnotation] = string.Join(',', shards),
    };

    private static V1ServiceAccount ServiceAccountFor(MigrationJobRequest request)
    {
        var annotations = new Dictionary<string, string>();
        if (request.WorkloadIdentityClientId is { } clientId) annotations[WorkloadIdentityClientIdAnnotation] = clientId;
        if (request.WorkloadIdentityTenantId is { } tenantId) annotations[WorkloadIdentityTenantIdAnnotation] = tenantId;
        return new V1ServiceAccount
        {
            ApiVersion = "v1", Kind = "ServiceAccount",
            Metadata = new V1ObjectMeta
            {
                Name = request.ServiceAccountName, NamespaceProperty = request.Namespace, Labels = Labels(request.Name),
                Annotations = annotations.Count == 0 ? null : annotations,
            },
            // the copy needs no Kubernetes API access: the API token stays out of the pod
            AutomountServiceAccountToken = false,
        };
    }

    private static V1JobSpec JobSpec(MigrationJobRequest request, IReadOnlyList<int> shards, string mode)
    {
        var podLabels = Labels(request.Name);
        if (request.WorkloadIdentityClientId is not null) podLabels[WorkloadIdentityUseLabel] = "true";
        return new V1JobSpec
        {
            CompletionMode = "Indexed",
            Completions = shards.Count,
            Parallelism = shards.Count,
            BackoffLimitPerIndex = request.BackoffLimitPerIndex,
            PodFailurePolicy = FailurePolicy(),
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = podLabels },
                Spec = PodSpec(request, shards, mode),
            },
        };
    }

    internal static V1PodFailurePolicy FailurePolicy() => new()
    {
        Rules =
        [
            new V1PodFailurePolicyRule
            {
                Action = "FailJob",
                OnExitCodes = new V1PodFailurePolicyOnExitCodesRequirement { ContainerName = ContainerName, OperatorProperty = "In", Values = [MigrationJobExitCodes.BadConfiguration] },
            },
            new V1PodFailurePolicyRule
            {
                Action = "FailIndex",
                OnExitCodes = new V1PodFailurePolicyOnExitCodesRequirement { ContainerName = ContainerName, OperatorProperty = "In", Values = [MigrationJobExitCodes.ParityDifference] },
            },
            new V1PodFailurePolicyRule
            {
                Action = "Ignore",
                OnPodConditions = [new V1PodFailurePolicyOnPodConditionsPattern { Type = "DisruptionTarget", Status = "True" }],
            },
        ],
    };

    private static V1PodSpec PodSpec(MigrationJobRequest request, IReadOnlyList<int> shards, string mode) => new()
    {
        ServiceAccountName = request.ServiceAccountName,
        AutomountServiceAccountToken = false,
        RestartPolicy = "Never",
        SecurityContext = new V1PodSecurityContext
        {
            RunAsNonRoot = true, RunAsUser = RunAsUser, RunAsGroup = RunAsUser, FsGroup = RunAsUser,
            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
        },
        Containers =
        [
            new V1Container
            {
                Name = ContainerName,
                Image = request.Image,
                ImagePullPolicy = "IfNotPresent",
                Command = Command.ToList(),
                Env = Environment(request, shards, mode),
                Resources = Resources(request),
                SecurityContext = new V1SecurityContext
                {
                    RunAsNonRoot = true, ReadOnlyRootFilesystem = true, AllowPrivilegeEscalation = false,
                    Capabilities = new V1Capabilities { Drop = ["ALL"] },
                },
                TerminationMessagePath = TerminationMessagePath,
                // a shard that dies before writing its summary still leaves its last log lines for Get-RegistryMigrationJob
                TerminationMessagePolicy = "FallbackToLogsOnError",
                VolumeMounts = [new V1VolumeMount { Name = WorkVolume, MountPath = WorkMountPath }],
            },
        ],
        Volumes = [new V1Volume { Name = WorkVolume, EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("1Gi") } }],
    };

    private static List<V1EnvVar> Environment(MigrationJobRequest request, IReadOnlyList<int> shards, string mode)
    {
        var env = new List<V1EnvVar>
        {
            Env(ModeVariable, mode),
            Env(ShardCountVariable, request.ShardCount.ToString(CultureInfo.InvariantCulture)),
            Env(ShardsVariable, string.Join(',', shards)),
            Env(CopyParametersVariable, CopyParametersJson(request.Copy)),
            Env(SummaryPathVariable, TerminationMessagePath),
            Env("HOME", $"{WorkMountPath}/home"),
            Env("TMPDIR", $"{WorkMountPath}/tmp"),
        };
        if (request.WorkloadIdentityClientId is not null)
            env.Add(Env(AzureIdentityRegistriesVariable, string.Join(',', MigrationJobValidation.SourceRegistries(request.Copy.Source))));
        if (request.SinceWindow is { } window)
            env.Add(Env(SinceWindowVariable, ((long)window.TotalSeconds).ToString(CultureInfo.InvariantCulture)));
        if (request.HarborSecretName is { } secret)
        {
            env.Add(new V1EnvVar { Name = HarborUsernameVariable, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Key = request.HarborSecretUsernameKey, Name = secret, Optional = false } } });
            env.Add(new V1EnvVar { Name = HarborPasswordVariable, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Key = request.HarborSecretPasswordKey, Name = secret, Optional = false } } });
        }
        return env;
    }

    internal static V1EnvVar Env(string name, string value) => new() { Name = name, Value = value };

    private static V1ResourceRequirements Resources(MigrationJobRequest request)
    {
        var limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new(request.MemoryLimit) };
        if (request.CpuLimit is { } cpu) limits["cpu"] = new ResourceQuantity(cpu);
        return new V1ResourceRequirements
        {
            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(request.CpuRequest), ["memory"] = new(request.MemoryRequest) },
            Limits = limits,
        };
    }

    /// <summary>The copy parameters as the JSON object the entrypoint splats into Copy-RegistryImage (only those set).</summary>
    public static string CopyParametersJson(MigrationCopyParameters copy)
    {
        var parameters = new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["Source"] = copy.Source, ["Destination"] = copy.Destination, ["ThrottleLimit"] = copy.ThrottleLimit,
        };
        if (copy.DestinationPrefix is { } prefix) parameters["DestinationPrefix"] = prefix;
        if (copy.StripPrefixSegments > 0) parameters["StripPrefixSegments"] = copy.StripPrefixSegments;
        if (copy.Rename is { Count: > 0 } rename) parameters["Rename"] = new SortedDictionary<string, string>(rename.ToDictionary(), StringComparer.Ordinal);
        if (copy.Include is { Count: > 0 } include) parameters["Include"] = include;
        if (copy.Exclude is { Count: > 0 } exclude) parameters["Exclude"] = exclude;
        if (copy.IncludeRegex is { } includeRegex) parameters["IncludeRegex"] = includeRegex;
        if (copy.ExcludeRegex is { } excludeRegex) parameters["ExcludeRegex"] = excludeRegex;
        if (copy.Platform is { Count: > 0 } platform) parameters["Platform"] = platform;
        if (copy.NoClobber) parameters["NoClobber"] = true;
        if (copy.ExcludeReferrers) parameters["ExcludeReferrers"] = true;
        if (copy.CreateProject) parameters["CreateProject"] = true;
        return JsonSerializer.Serialize(parameters, ParameterJson);
    }
}
