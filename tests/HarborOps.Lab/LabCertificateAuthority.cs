using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace HarborOps.Lab;

/// <summary>
/// The lab's certificate authority and the loopback server certificates it issues. Every https server of the lab (the
/// Kubernetes API, Entra, Graph, the hostile registry) serves a certificate from <see cref="Shared"/>, so one PEM trusts
/// them all: <see cref="BundlePath"/> (SSL_CERT_FILE for a child process, a kubeconfig's certificate-authority-data) or
/// <see cref="Validate"/> / <see cref="CreateTrustingHandler"/> in process. Clients trust the lab's CA; none turns the
/// check off. ECDSA P-256, because RSA key generation is slow and every lab start issues several certificates.
/// </summary>
public sealed class LabCertificateAuthority : IDisposable
{
    private static readonly Lazy<LabCertificateAuthority> SharedAuthority = new(() => new LabCertificateAuthority("HarborOps lab CA"));
    private readonly X509Certificate2 _authority;

    /// <summary>The CA of this lab process.</summary>
    public static LabCertificateAuthority Shared => SharedAuthority.Value;

    /// <summary>A CA of its own: for a test that needs a certificate the lab does not trust (a wrong CA in a kubeconfig).</summary>
    public LabCertificateAuthority(string commonName)
    {
        var now = DateTimeOffset.UtcNow;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var selfSigned = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        _authority = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pkcs12), null);
        Certificate = X509CertificateLoader.LoadCertificate(_authority.RawData);
        Pem = Certificate.ExportCertificatePem() + "\n";
        BundlePath = Path.Combine(LabDirectories.CreateOwned("ca"), "ca.pem");
        File.WriteAllText(BundlePath, Pem);
    }

    /// <summary>The CA certificate (no key).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA certificate as PEM.</summary>
    public string Pem { get; }

    /// <summary>A PEM file holding only this CA.</summary>
    public string BundlePath { get; }

    /// <summary>A server certificate (with its key) for localhost, 127.0.0.1, ::1 and, where it resolves, the machine's
    /// loopback name (<see cref="LabLoopbackName"/>).</summary>
    public X509Certificate2 IssueLoopbackServerCertificate()
    {
        var names = new List<string> { "localhost" };
        var addresses = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        if (LabLoopbackName.TryResolve(out var name, out var address))
        {
            names.Insert(0, name);
            if (!addresses.Contains(address)) addresses.Add(address);
        }
        return IssueServerCertificate(names, addresses);
    }

    /// <summary>A server certificate (with its key) for these DNS names and addresses.</summary>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses)
    {
        var now = DateTimeOffset.UtcNow;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var names = dnsNames.ToArray();
        var request = new CertificateRequest($"CN={names.FirstOrDefault() ?? "127.0.0.1"}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var dnsName in names) san.AddDnsName(dnsName);
        foreach (var address in addresses) san.AddIpAddress(address);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_authority, true, false));
        using var issued = request.Create(_authority, now.AddDays(-1), _authority.NotAfter.AddDays(-1), RandomNumberGenerator.GetBytes(16));
        using var withKey = issued.CopyWithPrivateKey(key);
        // Through PKCS#12 so Kestrel's TLS gets a key it can use on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A chain check that trusts exactly this CA (and still checks names and dates), for in-process clients.</summary>
    public bool Validate(X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    /// <summary>A handler that trusts this CA, for an in-process HttpClient or an Azure.Core HttpClientTransport.</summary>
    public SocketsHttpHandler CreateTrustingHandler() => new()
    {
        UseProxy = false,
        SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, errors) => Validate(certificate, errors) },
    };

    public void Dispose()
    {
        _authority.Dispose();
        Certificate.Dispose();
    }
}
