using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace HarborOps.Engine.Harbor;

/// <summary>
/// The process-wide HTTP clients for Harbor, one with TLS verification and (only when someone asks for it) one
/// without. Cookies are off: Harbor sets a sid cookie on API responses and its CSRF check rejects any mutating
/// call that sends it back (harbor#12455). Redirects are not followed, so Basic credentials never go elsewhere.
/// </summary>
internal static class HarborHttp
{
    private static readonly Lazy<HttpClient> Verified = new(() => new HttpClient(CreateHandler(skipCertificateCheck: false)) { Timeout = Timeout.InfiniteTimeSpan });
    private static readonly Lazy<HttpClient> Unverified = new(() => new HttpClient(CreateHandler(skipCertificateCheck: true)) { Timeout = Timeout.InfiniteTimeSpan });

    public static HttpClient For(bool skipCertificateCheck) => skipCertificateCheck ? Unverified.Value : Verified.Value;

    /// <summary>The handler settings every Harbor call relies on (tests wrap it to inspect the traffic).</summary>
    public static SocketsHttpHandler CreateHandler(bool skipCertificateCheck)
    {
        var handler = new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.GZip,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            MaxConnectionsPerServer = 8,
        };
        if (skipCertificateCheck)
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        return handler;
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public const string UserAgent = "HarborOps/0.1";
}
