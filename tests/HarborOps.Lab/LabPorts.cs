using System.Net;
using System.Net.Sockets;

namespace HarborOps.Lab;

internal static class LabPorts
{
    /// <summary>A port that was free a moment ago. Callers that hand it to another process retry on a bind failure,
    /// because another process may take it in between.</summary>
    public static int FindFreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
