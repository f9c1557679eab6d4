using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Http;
using HarborOps.Lab;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>
/// A Harbor or registry that serves plain HTTP, addressed with https (or without a scheme), fails the TLS handshake with
/// .NET's "cannot determine the frame size": the error says the server answered plain HTTP and never suggests turning
/// certificate checks off, which would not help.
/// </summary>
[Collection(HarborLabCollection.Name)]
public sealed class PlainHttpAnswerTests(HarborLabFixture lab) : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    public void Dispose() => lab.SkipExchanges();

    private string LoopbackNameOfHarbor => $"{LabLoopbackName.Name}:{lab.Harbor.BaseUri.Port}";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_plain_http_Harbor_given_without_a_scheme_is_named_as_plain_http_and_http_is_suggested(bool skipCertificateCheck)
    {
        var connection = new HarborConnection(HarborConnection.ParseUrl(LoopbackNameOfHarbor), new NetworkCredential(lab.Harbor.AdminUser, lab.Harbor.AdminPassword))
        {
            SkipCertificateCheck = skipCertificateCheck,
        };
        var failure = await Assert.ThrowsAsync<HarborException>(() => new HarborClient(connection, null, lab.FastOptions).ConnectAsync(None));

        Assert.Equal(HarborErrorIds.TlsFailed, failure.ErrorId);
        Assert.Contains("answered plain HTTP", failure.Message);
        Assert.Contains($"http://{LoopbackNameOfHarbor}", failure.Message);
        Assert.DoesNotContain("SkipCertificateCheck", failure.Message);
        Assert.DoesNotContain(lab.Harbor.AdminPassword, failure.Message);
    }

    [Fact]
    public void A_tls_failure_with_certificate_checks_off_does_not_suggest_turning_them_off()
    {
        var given = HarborTlsFailure.Advice(skipCertificateCheck: true);
        var notGiven = HarborTlsFailure.Advice(skipCertificateCheck: false);

        Assert.DoesNotContain("SkipCertificateCheck", given);
        Assert.Contains("-SkipCertificateCheck", notGiven);
    }

    [Fact]
    public async Task A_plain_http_registry_addressed_as_https_is_named_as_plain_http()
    {
        using var engine = new RegistryEngine(new RegistryEngineOptions
        {
            Http = new RegistryHttpOptions { MaxRetries = 0, RetryBaseDelay = TimeSpan.FromMilliseconds(10) },
            DockerConfigPath = Path.Combine(Path.GetTempPath(), "harborops-no-docker-config-" + Guid.NewGuid().ToString("N"), "config.json"),
        });
        var registry = $"{LabLoopbackName.Name}:{lab.Harbor.Registry.Host.Split(':')[^1]}";

        var failure = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await foreach (var _ in engine.GetTagsAsync(new GetTagsRequest($"{registry}/team/app"), null, None)) { }
        });

        Assert.Equal(RegistryErrorIds.HostUnreachable, failure.ErrorId);
        Assert.Contains("answered plain HTTP", failure.Message);
        Assert.Contains(RegistryHttpOptions.PlainHttpHostsVariable, failure.Message);
    }

    [Fact]
    public async Task A_tls_server_that_answers_plain_requests_with_http_is_not_taken_for_plain_http()
    {
        // Go's net/http (Distribution, Harbor core) answers a plain request on its TLS port with "HTTP/1.0 400 Client sent
        // an HTTP request to an HTTPS server": the probe must see that this server speaks TLS.
        using var certificate = SelfSigned();
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var serving = ServeLikeGoAsync(listener, certificate, stop.Token);
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            Assert.False(await PlainHttpAnswer.IsPlainHttpAsync("127.0.0.1", port, None));
            Assert.True(await PlainHttpAnswer.IsPlainHttpAsync("127.0.0.1", lab.Harbor.BaseUri.Port, None));
        }
        finally
        {
            stop.Cancel();
            listener.Stop();
            await Task.WhenAny(serving, Task.Delay(2000));
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }

    private static async Task ServeLikeGoAsync(TcpListener listener, X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(cancellationToken); }
            catch (Exception) { return; }
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        var stream = client.GetStream();
                        var first = new byte[1];
                        if (await stream.ReadAsync(first, cancellationToken) != 1) return;
                        if (first[0] != 0x16)
                        {
                            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"), cancellationToken);
                            return;
                        }
                        using var tls = new SslStream(new PrefixedStream(first, stream));
                        await tls.AuthenticateAsServerAsync(certificate);
                    }
                    catch (Exception) { /* the client went away: nothing to serve */ }
                }
            }, cancellationToken);
        }
    }

    /// <summary>The byte the server peeked at, handed back to the TLS stream ahead of the rest.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _given;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_given < prefix.Length && count > 0) { buffer[offset] = prefix[_given++]; return 1; }
            return inner.Read(buffer, offset, count);
        }
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_given < prefix.Length && buffer.Length > 0) { buffer.Span[0] = prefix[_given++]; return 1; }
            return await inner.ReadAsync(buffer, cancellationToken);
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
    }
}
