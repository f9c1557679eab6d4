using HarborOps.Engine.Errors;
using HarborOps.Engine.Rotation;
using Xunit;

namespace HarborOps.Engine.Tests.Rotation;

/// <summary>The rotation request refuses what it cannot mean, as it is given.</summary>
public sealed class PullSecretRotationRequestTests
{
    [Fact]
    public void A_negative_grace_period_is_refused_naming_the_secret()
    {
        var error = Assert.Throws<PullSecretException>(() => new PullSecretRotationRequest { SecretName = "harbor-pull", GracePeriod = TimeSpan.FromHours(-1) });
        Assert.Equal(PullSecretErrorIds.CredentialInvalid, error.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        Assert.Equal($"-GracePeriod must not be negative; {TimeSpan.FromHours(-1)} is.", error.Message);
        Assert.Equal("harbor-pull", error.Target);
    }

    [Fact]
    public void No_grace_period_and_the_default_are_accepted()
    {
        Assert.Equal(TimeSpan.Zero, new PullSecretRotationRequest { GracePeriod = TimeSpan.Zero }.GracePeriod);
        var byDefault = new PullSecretRotationRequest();
        Assert.Equal(TimeSpan.FromDays(7), byDefault.GracePeriod);
        Assert.Equal(97, byDefault.RobotDurationDays);
    }
}
