using System.Net;
using System.Text;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>Harbor's error text comes from the server too, and a proxy in front of it (or a hostile server) may echo the
/// Basic header it received: whatever the client sent must be cut out before the text enters a message.</summary>
public sealed class HarborEchoedSecretTests
{
    private sealed class EchoingHandler(HttpStatusCode status) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var sent = request.Headers.Authorization?.ToString() ?? "nothing";
            var pair = request.Headers.Authorization?.Parameter is { } p ? Encoding.UTF8.GetString(Convert.FromBase64String(p)) : "";
            var body = $"{{\"errors\":[{{\"code\":\"FORBIDDEN\",\"message\":\"you sent {sent} ({pair})\"}}]}}";
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json"), RequestMessage = request });
        }
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Conflict)]
    public async Task A_Harbor_error_body_that_echoes_our_Basic_header_leaves_no_credential_in_the_message(HttpStatusCode status)
    {
        var password = "Harbor-" + Guid.NewGuid().ToString("N");
        var connection = new HarborConnection(new Uri("https://harbor.example.com/"), new NetworkCredential("admin", password));
        var client = new HarborClient(connection, new HttpClient(new EchoingHandler(status)), null, new HarborClientOptions { MaxRetries = 0 });

        var failed = await Assert.ThrowsAnyAsync<HarborOpsException>(() => client.GetProjectAsync("team-a", CancellationToken.None));

        Assert.Contains("you sent Basic", failed.Message);
        foreach (var secret in new[] { password, "admin:" + password, Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + password)) })
            Assert.DoesNotContain(secret, failed.ToString());
    }
}
