using HarborOps.Engine.Harbor;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>Issue 19, item 6: Harbor's health per component and its system information, through the emulator and its swagger.</summary>
[Collection(HarborLabCollection.Name)]
public sealed class HarborHealthTests(HarborLabFixture lab) : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    public void Dispose()
    {
        lab.Harbor.SetComponentHealth("redis", null);
        lab.Harbor.SetComponentHealth("jobservice", null);
        lab.AssertExchangesMatchContract();
    }

    [Fact]
    public async Task A_healthy_Harbor_reports_every_component_healthy_in_name_order()
    {
        var health = await lab.Admin().GetHealthAsync(None);

        Assert.True(health.IsHealthy);
        Assert.Equal("healthy", health.Status);
        Assert.Equal(["core", "database", "jobservice", "portal", "redis", "registry", "registryctl", "trivy"], health.Components.Select(c => c.Name));
        Assert.All(health.Components, c => Assert.Null(c.Error));
        Assert.Empty(health.Unhealthy);
    }

    [Fact]
    public async Task One_unhealthy_component_makes_Harbor_unhealthy_and_the_monitor_error_names_it_and_its_cause()
    {
        lab.Harbor.SetComponentHealth("redis", "dial tcp 10.0.0.5:6379: connect: connection refused");
        lab.Harbor.SetComponentHealth("jobservice", "failed to check the health status: timeout");

        var health = await lab.Admin().GetHealthAsync(None);

        Assert.False(health.IsHealthy);
        Assert.Equal("unhealthy", health.Status);
        Assert.Equal(["jobservice", "redis"], health.Unhealthy);
        var error = new HarborUnhealthyException(health);
        Assert.Equal(HarborErrorIds.Unhealthy, error.ErrorId);
        Assert.True(error.IsTerminating);
        Assert.Contains("redis (dial tcp 10.0.0.5:6379: connect: connection refused)", error.Message, StringComparison.Ordinal);
        Assert.Contains("jobservice (failed to check the health status: timeout)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_system_admin_sees_version_auth_mode_registry_and_storage_totals()
    {
        lab.Harbor.SetVolume(200UL * 1024 * 1024 * 1024, 50UL * 1024 * 1024 * 1024);

        var info = await lab.Admin().GetSystemInfoAsync(None);

        Assert.Equal("v2.15.2-lab", info.HarborVersion);
        Assert.Equal("db_auth", info.AuthMode);
        Assert.Equal(lab.Harbor.Host, info.RegistryUrl);
        Assert.Equal("filesystem", info.StorageProvider);
        Assert.Equal(200UL * 1024 * 1024 * 1024, info.StorageTotalBytes);
        Assert.Equal(50UL * 1024 * 1024 * 1024, info.StorageFreeBytes);
        Assert.Equal(75.0, info.StoragePercentUsed);
        Assert.Null(info.StorageNote);
    }

    [Fact]
    public async Task A_user_who_is_not_an_admin_gets_the_version_and_a_note_instead_of_storage_totals()
    {
        var user = lab.Unique("monitor");
        lab.Harbor.AddUser(user, "Monitor12345");

        var info = await lab.As(user, "Monitor12345").GetSystemInfoAsync(None);

        Assert.Equal("v2.15.2-lab", info.HarborVersion);
        Assert.Null(info.StorageTotalBytes);
        Assert.Null(info.StoragePercentUsed);
        Assert.Contains("system administrator", info.StorageNote, StringComparison.Ordinal);
        Assert.Contains(user, info.StorageNote, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_password_is_an_authentication_failure_not_a_missing_right()
    {
        var failure = await Assert.ThrowsAsync<HarborException>(() => lab.As(lab.Harbor.AdminUser, "wrong-Passw0rd").GetSystemInfoAsync(None));

        Assert.Equal(HarborErrorIds.AuthenticationFailed, failure.ErrorId);
        Assert.DoesNotContain("wrong-Passw0rd", failure.Message, StringComparison.Ordinal);
    }
}
