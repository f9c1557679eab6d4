using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry.Http;

namespace HarborOps.Engine.Harbor;

/// <summary>
/// What a failed TLS connection to Harbor tells the user. A Harbor that answered plain HTTP (a lab, or a URL given
/// without a scheme, which means https) is named as such; otherwise the advice depends on whether certificate checks
/// were already off, because suggesting -SkipCertificateCheck to someone who gave it only sends them in a circle.
/// </summary>
internal static class HarborTlsFailure
{
    public static async Task<HarborException> DescribeAsync(Uri uri, HttpRequestException ex, bool skipCertificateCheck, object target, string requestId)
    {
        if (await PlainHttpAnswer.IsPlainHttpAsync(uri.Host, uri.Port, CancellationToken.None).ConfigureAwait(false))
            return new HarborException(HarborErrorIds.TlsFailed, FailureKind.ConnectionFailed,
                $"The server at {uri.Authority} answered plain HTTP to a TLS connection: it does not serve https there. For a lab Harbor that serves plain HTTP, use http://{uri.Authority}; otherwise check the port.",
                target, ex, requestId: requestId);
        return new HarborException(HarborErrorIds.TlsFailed, FailureKind.ConnectionFailed,
            $"The TLS connection to {uri.Authority} failed: {ex.InnerException?.Message ?? ex.Message}. {Advice(skipCertificateCheck)}",
            target, ex, requestId: requestId);
    }

    public static string Advice(bool skipCertificateCheck) => skipCertificateCheck
        ? "Certificate checks were already off, so the handshake itself failed: check that the URL's port serves https and that this machine and Harbor share a TLS version."
        : "Trust Harbor's CA on this machine; only if you accept the risk, use -SkipCertificateCheck.";
}
