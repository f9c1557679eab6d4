using System.Net;
using System.Net.Sockets;

namespace HarborOps.Lab;

/// <summary>
/// A host name that resolves to a loopback address but is not spelled as loopback. HarborOps (like docker) treats
/// <c>localhost</c> and loopback addresses as plain-HTTP registries, so a registry reached over https on this machine
/// needs another name; the machine's own name is one (Debian maps it in /etc/hosts, and tools/setup-debian.sh makes
/// sure it does).
/// </summary>
public static class LabLoopbackName
{
    private static readonly Lazy<(string Name, IPAddress? Address)> Resolved = new(Find);

    /// <summary>The name, or an exception that says how to set one up.</summary>
    public static string Name => TryResolve(out var name, out _) ? name : throw NotSetUp();

    /// <summary>The loopback address it resolves to (127.0.0.1 or Debian's 127.0.1.1): the lab listens there.</summary>
    public static IPAddress Address => TryResolve(out _, out var address) ? address : throw NotSetUp();

    public static bool TryResolve(out string name, out IPAddress address)
    {
        (name, var found) = Resolved.Value;
        address = found ?? IPAddress.None;
        return found is not null;
    }

    private static InvalidOperationException NotSetUp() => new(
        $"The lab needs this machine's name ('{Resolved.Value.Name}') to resolve to a loopback address for its https registries. Run tools/setup-debian.sh (it adds '127.0.1.1 {Resolved.Value.Name}' to /etc/hosts, as Debian's installer does) or add that line yourself.");

    private static (string, IPAddress?) Find()
    {
        var name = Dns.GetHostName();
        if (string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase) || IPAddress.TryParse(name, out _)) return (name, null);
        try
        {
            return (name, Dns.GetHostAddresses(name, AddressFamily.InterNetwork).FirstOrDefault(IPAddress.IsLoopback));
        }
        catch (SocketException)
        {
            return (name, null);
        }
    }
}
