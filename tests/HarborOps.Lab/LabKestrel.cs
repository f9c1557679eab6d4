using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;

namespace HarborOps.Lab;

/// <summary>The one way the lab's emulators get a Kestrel server: quiet, loopback only, port chosen by the OS.</summary>
internal static class LabKestrel
{
    /// <summary>A builder whose listeners serve plain http, or https with <paramref name="certificate"/> when given.</summary>
    public static WebApplicationBuilder CreateBuilder(int listeners = 1, X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            for (var i = 0; i < listeners; i++)
            {
                if (certificate is null) kestrel.Listen(IPAddress.Loopback, 0);
                else kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
            }
            kestrel.Limits.MaxRequestBodySize = null; // blobs stream through the proxy
            kestrel.AllowSynchronousIO = false;
        });
        return builder;
    }

    /// <summary>The bound http(s)://127.0.0.1:PORT/ addresses, in listener order.</summary>
    public static IReadOnlyList<Uri> BoundAddresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.Select(a => new Uri(a.EndsWith('/') ? a : a + "/")).ToList();
}
