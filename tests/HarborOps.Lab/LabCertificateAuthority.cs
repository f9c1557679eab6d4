using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace HarborOps.Lab;

/// <summary>
/// A certificate authority of the lab and the server certificates it issues for loopback names. A client trusts the lab's
/// https servers through <see cref="BundlePath"/> (SSL_CERT_FILE for a child process) or <see cref="Validate"/> in process.
/// </summary>
public sealed class LabCertificateAuthority
{
    private readonly X509Certificate2 _authority;

    public LabCertificateAuthority(string commonName)
    {
        var now = DateTimeOffset.UtcNow;
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var selfSigned = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        _authority = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pkcs12), null);
        Certificate = X509CertificateLoader.LoadCertificate(_authority.RawData);
        BundlePath = Path.Combine(LabDirectories.CreateOwned("ca"), "ca.pem");
        File.WriteAllText(BundlePath, Certificate.ExportCertificatePem() + "\n");
    }

    /// <summary>The CA certificate (no key).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>A PEM file holding only this CA.</summary>
    public string BundlePath { get; }

    /// <summary>A server certificate (with its key) for these DNS names and 127.0.0.0/8 addresses.</summary>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses)
    {
        var now = DateTimeOffset.UtcNow;
        using var key = RSA.Create(2048);
        var names = dnsNames.ToArray();
        var request = new CertificateRequest($"CN={names.FirstOrDefault() ?? "127.0.0.1"}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names) san.AddDnsName(name);
        foreach (var address in addresses) san.AddIpAddress(address);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_authority, true, false));
        using var issued = request.Create(_authority, now.AddDays(-1), _authority.NotAfter.AddDays(-1), RandomNumberGenerator.GetBytes(16));
        using var withKey = issued.CopyWithPrivateKey(key);
        // Through PKCS#12 so Kestrel's TLS gets a key it can use on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A chain check that trusts exactly this CA (and still checks names and dates), for in-process clients.</summary>
    public bool Validate(X509Certificate2? certificate, System.Net.Security.SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch)) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
