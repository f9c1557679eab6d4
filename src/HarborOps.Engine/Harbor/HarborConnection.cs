using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>Where Harbor is and who talks to it. The credential is a user (local, LDAP), an OIDC user with its CLI
/// secret, or a robot (named with Harbor's robot name prefix, robot$ by default); all of them authenticate with HTTP Basic.</summary>
public sealed record HarborConnection
{
    /// <summary>Harbor's default robot name prefix (the system setting robot_name_prefix, which installations may change).</summary>
    public const string DefaultRobotPrefix = "robot$";

    public HarborConnection(Uri url, NetworkCredential credential)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(credential);
        Url = url;
        Credential = credential;
    }

    /// <summary>Harbor's base URL with a trailing slash (https://harbor.example.com/).</summary>
    public Uri Url { get; }
    public NetworkCredential Credential { get; }
    /// <summary>Turns TLS certificate checks off. Only ever set because the user asked for it by name.</summary>
    public bool SkipCertificateCheck { get; init; }
    /// <summary>This Harbor's robot name prefix when known (given to Connect-Harbor, or learnt when it connected); null when not.</summary>
    public string? RobotNamePrefix { get; init; }

    public string UserName => Credential.UserName;
    /// <summary>Whether the login is a robot's, by the known prefix (Harbor itself decides so: a Basic name with the prefix
    /// is looked up among the robots). False while the prefix is unknown; Connect-Harbor tells robots by Harbor's answer.</summary>
    public bool IsRobot => RobotNamePrefix is { Length: > 0 } prefix && Credential.UserName.StartsWith(prefix, StringComparison.Ordinal);

    /// <summary>The registry host (host[:port]) image references and pull secrets use for this Harbor.</summary>
    public string Registry => Url.IsDefaultPort ? Url.IdnHost : $"{Url.IdnHost}:{Url.Port}";

    /// <summary>The API root, .../api/v2.0/.</summary>
    public Uri ApiRoot => new(Url, "api/v2.0/");

    /// <summary>
    /// Parses what a user types: "https://harbor.example.com", "harbor.example.com" (https is assumed) or
    /// "http://127.0.0.1:8080". Only http and https are accepted; query and fragment are not.
    /// </summary>
    public static Uri ParseUrl(string value)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new HarborException(HarborErrorIds.UrlInvalid, FailureKind.InvalidArgument, "The Harbor URL is empty. Give it as https://harbor.example.com.", value);
        var text = value.Trim();
        if (!text.Contains("://", StringComparison.Ordinal)) text = "https://" + text;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || string.IsNullOrEmpty(uri.Host))
            throw new HarborException(HarborErrorIds.UrlInvalid, FailureKind.InvalidArgument,
                $"'{value}' is not a Harbor URL. Give the address of Harbor's web UI, such as https://harbor.example.com.", value);
        var path = uri.AbsolutePath;
        // Users paste the API root or a UI page; the API lives under the base.
        var api = path.IndexOf("/api/", StringComparison.OrdinalIgnoreCase);
        if (api >= 0) path = path[..api];
        if (path.EndsWith("/harbor", StringComparison.OrdinalIgnoreCase) || path.Contains("/harbor/", StringComparison.OrdinalIgnoreCase))
            path = path[..path.IndexOf("/harbor", StringComparison.OrdinalIgnoreCase)];
        if (!path.EndsWith('/')) path += "/";
        return new UriBuilder(uri.Scheme, uri.Host, uri.Port, path).Uri;
    }

    public override string ToString() => $"{Url} as {UserName}";
}

/// <summary>
/// The Harbor session of this process (Connect-Harbor). One per process like the registry engine, so every later
/// cmdlet finds it; cmdlets given -Harbor/-Credential use those instead.
/// </summary>
public static class HarborSession
{
    private static (HarborConnection Connection, HarborConnectionInfo Info)? ConnectedSession;
    private static readonly object Gate = new();

    public static HarborConnection? Current { get { lock (Gate) return ConnectedSession?.Connection; } }
    public static HarborConnectionInfo? CurrentInfo { get { lock (Gate) return ConnectedSession?.Info; } }

    public static void Set(HarborConnection connection, HarborConnectionInfo info)
    {
        lock (Gate) ConnectedSession = (connection, info);
    }

    /// <summary>Forgets the session; returns what it was.</summary>
    public static HarborConnectionInfo? Clear()
    {
        lock (Gate)
        {
            var info = ConnectedSession?.Info;
            ConnectedSession = null;
            return info;
        }
    }

    /// <summary>
    /// The connection a cmdlet should use: its own -Harbor/-Credential, else the session's. A -Harbor without a
    /// credential borrows the session's credential only when it names the same Harbor; otherwise it fails instead of
    /// running anonymously (Harbor would answer anonymous calls with public data only and hide the mistake).
    /// </summary>
    public static HarborConnection Resolve(string? harbor, NetworkCredential? credential, bool skipCertificateCheck)
    {
        var session = Current;
        if (harbor is null)
        {
            if (credential is null)
                return session ?? throw new HarborException(HarborErrorIds.NotConnected, FailureKind.InvalidArgument,
                    "There is no Harbor session. Run Connect-Harbor first, or give -Harbor and -Credential to this command.");
            if (session is null)
                throw new HarborException(HarborErrorIds.NotConnected, FailureKind.InvalidArgument,
                    "-Credential was given without -Harbor and there is no Harbor session to take the URL from. Add -Harbor.");
            return new HarborConnection(session.Url, credential)
            {
                SkipCertificateCheck = skipCertificateCheck || session.SkipCertificateCheck, RobotNamePrefix = session.RobotNamePrefix,
            };
        }
        var url = HarborConnection.ParseUrl(harbor);
        // The prefix is the Harbor's setting, not the credential's: another login to the session's Harbor keeps it.
        if (credential is not null)
            return new HarborConnection(url, credential)
            {
                SkipCertificateCheck = skipCertificateCheck, RobotNamePrefix = session is not null && session.Url == url ? session.RobotNamePrefix : null,
            };
        if (session is not null && session.Url == url) return session with { SkipCertificateCheck = skipCertificateCheck || session.SkipCertificateCheck };
        throw new HarborException(HarborErrorIds.NotConnected, FailureKind.InvalidArgument,
            $"No credential for {url}: the session is {(session is null ? "not open" : "for " + session.Url)}. Give -Credential, or Connect-Harbor -Harbor {url} first.",
            harbor);
    }
}
