using System.Security;
using System.Text;
using System.Text.Json.Nodes;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Rotation;
using Xunit;

namespace HarborOps.Engine.Tests.Rotation;

public sealed class DockerConfigJsonTests
{
    private static SecureString Secure(string value)
    {
        var secure = new SecureString();
        foreach (var c in value) secure.AppendChar(c);
        return secure;
    }

    [Fact]
    public void Payload_has_the_kubelets_shape_for_one_registry()
    {
        var payload = DockerConfigJson.Build("https://Harbor.Example.com:8443/", "robot$team-a+k8s-pull", Secure("s3cr:et"));
        var auths = JsonNode.Parse(payload)!["auths"]!.AsObject();
        var entry = Assert.Single(auths);
        Assert.Equal("harbor.example.com:8443", entry.Key);
        Assert.Equal("robot$team-a+k8s-pull", (string?)entry.Value!["username"]);
        Assert.Equal("s3cr:et", (string?)entry.Value["password"]);
        Assert.Equal("robot$team-a+k8s-pull:s3cr:et", Encoding.UTF8.GetString(Convert.FromBase64String((string)entry.Value["auth"]!)));
    }

    [Fact]
    public void Read_finds_the_login_by_host_whatever_the_keys_scheme_and_falls_back_to_auth()
    {
        var payload = Encoding.UTF8.GetBytes("""{"auths":{"other.io":{"auth":"eDp5"},"https://harbor.lab:5000":{"auth":"cm9ib3QkYTpwdw=="}}}""");
        var login = DockerConfigJson.Read(payload, "harbor.lab:5000");
        Assert.NotNull(login);
        Assert.Equal("robot$a", login.UserName);
        Assert.Equal("pw", login.Password);
        Assert.Null(DockerConfigJson.Read(payload, "missing.io"));
        Assert.Null(DockerConfigJson.Read(Encoding.UTF8.GetBytes("not json"), "harbor.lab:5000"));
    }

    [Fact]
    public void Holds_only_when_exactly_this_login_and_nothing_else()
    {
        var payload = DockerConfigJson.Build("harbor.lab", "robot$a", Secure("one"));
        Assert.True(DockerConfigJson.Holds(payload, "harbor.lab", "robot$a", Secure("one")));
        Assert.False(DockerConfigJson.Holds(payload, "harbor.lab", "robot$a", Secure("two")));
        Assert.False(DockerConfigJson.Holds(payload, "harbor.lab", "robot$b", Secure("one")));
        var two = Encoding.UTF8.GetBytes("""{"auths":{"harbor.lab":{"username":"robot$a","password":"one"},"x.io":{"username":"u","password":"p"}}}""");
        Assert.False(DockerConfigJson.Holds(two, "harbor.lab", "robot$a", Secure("one")));
    }

    [Theory]
    [InlineData("harbor.lab/team-a")]
    [InlineData("")]
    public void A_registry_with_a_path_is_refused_naming_it(string registry)
    {
        var ex = Assert.Throws<PullSecretException>(() => DockerConfigJson.Build(registry, "u", Secure("p")));
        Assert.Equal(PullSecretErrorIds.CredentialInvalid, ex.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, ex.Kind);
    }

    [Fact]
    public void An_empty_secret_or_a_colon_in_the_user_is_refused_without_echoing_the_secret()
    {
        Assert.Equal(PullSecretErrorIds.CredentialInvalid, Assert.Throws<PullSecretException>(() => DockerConfigJson.Build("h.io", "robot$a", Secure(""))).ErrorId);
        var ex = Assert.Throws<PullSecretException>(() => DockerConfigJson.Build("h.io", "a:b", Secure("topsecret")));
        Assert.DoesNotContain("topsecret", ex.Message, StringComparison.Ordinal);
    }
}

public sealed class PullSecretStateTests
{
    [Fact]
    public void State_round_trips_through_annotations()
    {
        var state = new PullSecretState
        {
            Registry = "harbor.lab:5000", Robot = "robot$team-a+k8s-pull-ns-1", RobotId = 42,
            RotatedAt = new DateTimeOffset(2026, 11, 26, 4, 0, 0, TimeSpan.Zero), ExpiresAt = new DateTimeOffset(2027, 3, 3, 4, 0, 0, TimeSpan.Zero),
            Projects = ["team-a", "base"], CreatedRobot = "k8s-pull-ns-1", CreatingRobot = "k8s-pull-ns-2",
            RetiredRobots =
            [
                new RetiredRobot(7, "robot$team-a+old", new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero)),
                new RetiredRobot(8, "robot$team-a+k8s-pull-ns-0", new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero), CreatedByRotation: true),
            ],
        };
        var annotations = state.ToAnnotations().Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!);
        Assert.Equal("team-a,base", annotations[PullSecretKeys.Projects]);
        Assert.False(annotations.ContainsKey(PullSecretKeys.VerifiedAt));
        var back = PullSecretState.FromAnnotations(annotations);
        Assert.Equal(state.Robot, back.Robot);
        Assert.Equal(state.RobotId, back.RobotId);
        Assert.Equal(state.RotatedAt, back.RotatedAt);
        Assert.Equal(state.ExpiresAt, back.ExpiresAt);
        Assert.Equal(state.Projects, back.Projects);
        Assert.Equal(state.RetiredRobots, back.RetiredRobots);
        Assert.Equal(state.CreatedRobot, back.CreatedRobot);
        Assert.Equal(state.CreatingRobot, back.CreatingRobot);
        Assert.True(back.HoldsCreatedRobot("robot$"));
        Assert.True((back with { Robot = "svc-team-a+k8s-pull-ns-1" }).HoldsCreatedRobot("svc-"));
        // Entries written before origins were recorded carry no flag: never the rotation's to delete.
        Assert.DoesNotContain("createdByRotation\":false", annotations[PullSecretKeys.RetiredRobots]);
    }

    [Fact]
    public void User_names_lists_every_entry_without_its_password()
    {
        var payload = System.Text.Encoding.UTF8.GetBytes(
            "{\"auths\":{\"harbor.lab\":{\"auth\":\"" + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("robot$a+x:pw1")) + "\"},\"other.io\":{\"username\":\"u2\",\"password\":\"pw2\"}}}");
        Assert.Equal(["robot$a+x", "u2"], DockerConfigJson.UserNames(payload));
        Assert.Empty(DockerConfigJson.UserNames(System.Text.Encoding.UTF8.GetBytes("not json")));
    }

    [Fact]
    public void A_hand_edited_retired_list_does_not_stop_the_rotation()
    {
        var state = PullSecretState.FromAnnotations(new Dictionary<string, string> { [PullSecretKeys.RetiredRobots] = "{not json", [PullSecretKeys.RobotId] = "x" });
        Assert.Empty(state.RetiredRobots);
        Assert.Null(state.RobotId);
    }
}
