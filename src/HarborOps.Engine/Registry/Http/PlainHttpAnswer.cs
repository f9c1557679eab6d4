using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// Tells, after a failed TLS handshake, whether the server speaks plain HTTP on that port. .NET reports a plain-HTTP
/// answer to its ClientHello only as "cannot determine the frame size" (an AuthenticationException like any certificate
/// failure, its text localized), so the exception cannot tell; two short probes can. First a TLS handshake that accepts
/// any certificate: if it completes, the server speaks TLS and the failure was its certificate. Only then a plain
/// <c>HEAD /</c>: a server answering "HTTP/" speaks plain HTTP. The order matters: Go's net/http (Distribution, Harbor)
/// and nginx answer a plain request on their TLS port with an HTTP 400, which alone would look like plain HTTP.
/// Nothing but the handshake and that request line is sent: no credential, no path of the user's.
/// </summary>
public static class PlainHttpAnswer
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    /// <summary>True only when the server answered plain HTTP and does not complete a TLS handshake; any doubt is false.</summary>
    public static async Task<bool> IsPlainHttpAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            if (await CompletesTlsHandshakeAsync(host, port, timeout.Token).ConfigureAwait(false)) return false;
            return await AnswersPlainHttpAsync(host, port, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }

    private static async Task<bool> CompletesTlsHandshakeAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        // Accepting any certificate is safe here: the handshake is the whole conversation, nothing is sent over it.
        using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (System.Security.Authentication.AuthenticationException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task<bool> AnswersPlainHttpAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HEAD / HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n"), cancellationToken).ConfigureAwait(false);
        var start = new byte[5];
        var read = 0;
        while (read < start.Length)
        {
            var n = await stream.ReadAsync(start.AsMemory(read), cancellationToken).ConfigureAwait(false);
            if (n == 0) break;
            read += n;
        }
        return read == start.Length && Encoding.ASCII.GetString(start) == "HTTP/";
    }
}
