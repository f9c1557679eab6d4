using System.Text;

namespace HarborOps.Lab.Kube;

/// <summary>One context of a lab kubeconfig: its name, the user entry and that user's bearer token.</summary>
public sealed record KubeConfigContext(string Name, string User, string Token, string Namespace = "default");

/// <summary>Writes kubeconfig files (YAML, mode 600 like kubectl's) that point kubectl and KubernetesClient at an emulator.</summary>
public static class KubeConfigFile
{
    public const string ClusterName = "harborops-lab";

    public static string Render(KubeEmulator emulator, string currentContext, IEnumerable<KubeConfigContext> contexts)
    {
        var list = contexts.ToList();
        var yaml = new StringBuilder();
        yaml.Append("apiVersion: v1\nkind: Config\n");
        var authority = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(emulator.CertificateAuthority.Pem));
        yaml.Append($"clusters:\n- name: {ClusterName}\n  cluster:\n    server: {emulator.Server}\n    certificate-authority-data: {authority}\n");
        yaml.Append("contexts:\n");
        foreach (var c in list) yaml.Append($"- name: {c.Name}\n  context:\n    cluster: {ClusterName}\n    user: {c.User}\n    namespace: {c.Namespace}\n");
        yaml.Append($"current-context: {currentContext}\n");
        yaml.Append("users:\n");
        foreach (var c in list.DistinctBy(c => c.User)) yaml.Append($"- name: {c.User}\n  user:\n    token: {c.Token}\n");
        return yaml.ToString();
    }

    /// <summary>Writes the file atomically (temp + rename) with owner-only permissions, and returns its full path.</summary>
    public static string Write(string path, KubeEmulator emulator, string currentContext, params KubeConfigContext[] contexts)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, Render(emulator, currentContext, contexts));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, full, overwrite: true);
        return full;
    }
}
