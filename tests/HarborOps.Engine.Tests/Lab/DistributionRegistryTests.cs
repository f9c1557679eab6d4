using System.Net;
using System.Net.Http.Headers;
using System.Text;
using HarborOps.Lab;
using Xunit;

namespace HarborOps.Engine.Tests.Lab;

public sealed class DistributionRegistryTests(LabRegistriesFixture lab) : IClassFixture<LabRegistriesFixture>
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

    [Fact]
    public async Task Open_registry_answers_v2_without_credentials()
    {
        using var response = await Http.GetAsync(new Uri(lab.Open.BaseUri, "v2/"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("registry/2.0", response.Headers.GetValues("Docker-Distribution-API-Version").Single());
        Assert.Null(lab.Open.UserName);
        Assert.StartsWith("127.0.0.1:", lab.Open.Host);
    }

    [Fact]
    public async Task Basic_registry_refuses_anonymous_and_wrong_password_and_accepts_the_lab_user()
    {
        var ping = new Uri(lab.Basic.BaseUri, "v2/");
        using (var anonymous = await Http.GetAsync(ping))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.StartsWith("Basic", anonymous.Headers.WwwAuthenticate.ToString());
        }
        using (var wrong = await Http.SendAsync(WithBasic(ping, lab.Basic.UserName!, lab.Basic.Password + "x")))
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using (var right = await Http.SendAsync(WithBasic(ping, lab.Basic.UserName!, lab.Basic.Password!)))
            Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    private static HttpRequestMessage WithBasic(Uri uri, string user, string password)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return request;
    }
}
