using Xunit;

namespace HarborOps.Lab.Tests;

public sealed class LabPrerequisitesTests
{
    [Fact]
    public void Missing_docker_registry_message_names_the_install_command()
    {
        Assert.Equal("docker-registry is not installed: apt-get install -y docker-registry",
            LabPrerequisites.MissingToolMessage("docker-registry", "docker-registry"));
    }

    [Fact]
    public void Require_throws_with_the_install_command_when_the_program_is_missing()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"no-such-tool-{Guid.NewGuid():N}");
        var error = Assert.Throws<LabPrerequisiteException>(() => LabPrerequisites.Require(missing, "htpasswd", "apache2-utils"));
        Assert.Equal("htpasswd is not installed: apt-get install -y apache2-utils", error.Message);
    }

    [Fact]
    public void The_tools_the_lab_runs_are_installed_here()
    {
        // Fails (with the install command) on a machine that lacks them, instead of letting lab tests skip.
        Assert.Equal(LabPrerequisites.DockerRegistryPath, LabPrerequisites.RequireDockerRegistry());
        Assert.Equal(LabPrerequisites.HtpasswdPath, LabPrerequisites.RequireHtpasswd());
        Assert.Equal(LabPrerequisites.SkopeoPath, LabPrerequisites.RequireSkopeo());
    }
}
