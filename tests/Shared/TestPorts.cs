// Ports for the nodes tests start, linked into each test project that starts nodes.
using System.Net;
using System.Net.Sockets;

namespace Broker.Tests;

/// <summary>
/// Hands out listening ports below the kernel's ephemeral range (32768–60999 on Linux). A port the kernel picked for
/// a probe listener (port 0) is ephemeral: between the probe closing it and the node binding it, any outbound
/// connection of any process may take it as its local port, and the node then fails with "Address already in use"
/// (CI stop 22). Ports below the range are never chosen for outbound connections, and the counter never gives one
/// port twice in a test process; each process starts at its own offset so parallel test assemblies rarely meet.
/// </summary>
internal static class TestPorts
{
    private const int First = 20000;
    private const int Span = 12000;
    private static int _counter = Environment.ProcessId % 120 * 100;

    /// <summary>A port on 127.0.0.1 that nothing listens on now and this process has not handed out before.</summary>
    public static int Free()
    {
        for (var attempt = 0; attempt < Span; attempt++)
        {
            var port = First + (int)((uint)Interlocked.Increment(ref _counter) % Span);
            if (CanBind(port)) return port;
        }
        throw new InvalidOperationException($"no free port between {First} and {First + Span}");
    }

    private static bool CanBind(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
