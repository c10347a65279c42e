using System.Net;
using System.Net.Sockets;

namespace Gateway.Testing;

/// <summary>Asks the kernel for an unused loopback TCP port, never the same one twice in this process.</summary>
public static class FreePort
{
    // The kernel may hand out a port again as soon as the probing listener closes: two listeners of one test then
    // get the same port ("duplicate listening port"), or a backend takes a port a gateway was given a moment before.
    private static readonly HashSet<int> HandedOut = [];

    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
