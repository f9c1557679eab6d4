using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace HarborOps.Lab;

/// <summary>The one way the lab's emulators get a Kestrel server: quiet, loopback only, port chosen by the OS.</summary>
internal static class LabKestrel
{
    /// <param name="listeners">How many loopback ports to bind.</param>
    /// <param name="tlsCertificate">Serve https with this certificate (the lab's Entra endpoint: Azure.Identity accepts only https authority hosts).</param>
    public static WebApplicationBuilder CreateBuilder(int listeners = 1, System.Security.Cryptography.X509Certificates.X509Certificate2? tlsCertificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            for (var i = 0; i < listeners; i++)
            {
                if (tlsCertificate is null) kestrel.Listen(IPAddress.Loopback, 0);
                else kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(tlsCertificate));
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
