using System.Globalization;
using HarborOps.Models;
using k8s;
using k8s.Models;
using static HarborOps.Engine.MigrationJobs.MigrationJobContract;

namespace HarborOps.Engine.MigrationJobs;

/// <summary>The New-RegistryMigrationJob output object for what was built (and maybe created).</summary>
public static class MigrationJobOutput
{
    public static RegistryMigrationJob Describe(MigrationJobManifest manifest, bool applied)
    {
        var metadata = manifest.Job?.Metadata ?? manifest.CronJob!.Metadata;
        var spec = manifest.Job?.Spec ?? manifest.CronJob!.Spec.JobTemplate.Spec;
        var annotations = manifest.Job?.Metadata.Annotations ?? manifest.CronJob!.Spec.JobTemplate.Metadata.Annotations;
        return new RegistryMigrationJob
        {
            Kind = manifest.Job is null ? "CronJob" : "Job",
            Name = metadata.Name, Namespace = metadata.NamespaceProperty,
            ServiceAccount = manifest.ServiceAccount.Metadata.Name,
            ShardCount = int.Parse(annotations[ShardCountAnnotation], CultureInfo.InvariantCulture),
            Shards = Shards(annotations),
            Schedule = manifest.CronJob?.Spec.Schedule,
            Image = spec.Template.Spec.Containers[0].Image,
            Applied = applied,
            Yaml = manifest.ToYaml(),
        };
    }

    internal static RegistryMigrationJob Describe(V1Job job, bool applied) => new()
    {
        Kind = "Job", Name = job.Metadata.Name, Namespace = job.Metadata.NamespaceProperty,
        ServiceAccount = job.Spec.Template.Spec.ServiceAccountName ?? "",
        ShardCount = int.Parse(job.Metadata.Annotations[ShardCountAnnotation], CultureInfo.InvariantCulture),
        Shards = Shards(job.Metadata.Annotations),
        Image = job.Spec.Template.Spec.Containers[0].Image,
        Applied = applied,
        Yaml = KubernetesYaml.Serialize(job),
    };

    private static int[] Shards(IDictionary<string, string> annotations) =>
        annotations[ShardsAnnotation].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
}
