namespace HarborOps.Lab;

/// <summary>Thrown when the lab needs a Debian package that is not installed; the message carries the install command.</summary>
public sealed class LabPrerequisiteException(string message) : Exception(message);

/// <summary>The external programs the lab runs, and the one place that words "how to install it".</summary>
public static class LabPrerequisites
{
    public const string DockerRegistryPath = "/usr/bin/docker-registry";
    public const string HtpasswdPath = "/usr/bin/htpasswd";
    public const string SkopeoPath = "/usr/bin/skopeo";
    public const string KubectlPath = "/usr/bin/kubectl";

    /// <summary>The message a test shows when a tool is missing, e.g.
    /// "docker-registry is not installed: apt-get install -y docker-registry".</summary>
    public static string MissingToolMessage(string tool, string debianPackage) =>
        $"{tool} is not installed: apt-get install -y {debianPackage}";

    /// <summary>Returns <paramref name="path"/> when the file exists, else throws with the install command.</summary>
    public static string Require(string path, string tool, string debianPackage) =>
        File.Exists(path) ? path : throw new LabPrerequisiteException(MissingToolMessage(tool, debianPackage));

    public static string RequireDockerRegistry() => Require(DockerRegistryPath, "docker-registry", "docker-registry");
    public static string RequireHtpasswd() => Require(HtpasswdPath, "htpasswd", "apache2-utils");
    public static string RequireSkopeo() => Require(SkopeoPath, "skopeo", "skopeo");
    public static string RequireKubectl() => Require(KubectlPath, "kubectl", "kubernetes-client");
}
