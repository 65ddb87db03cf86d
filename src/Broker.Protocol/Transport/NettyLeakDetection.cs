// DotNetty's buffer-leak sampling, turned off in nodes and clients (Akka.Remote's TCP transport runs on DotNetty).
using DotNetty.Common;

namespace Broker.Protocol.Transport;

/// <summary>
/// DotNetty's default leak detection ("simple") records a stack trace for one in 128 buffers it hands out. With TLS
/// every 16 KiB record is such a buffer on both sides of a connection; on a node's client door that was about 3% of
/// the node's CPU while a client consumed (docs/security.md). It reports leaks of DotNetty's reference-counted
/// buffers, which only DotNetty and Akka.Remote handle: set the environment variable <c>io.netty.leakDetection.level</c>
/// (simple, advanced, paranoid) to debug them. Nodes call this before their ActorSystems start, clients before theirs.
/// </summary>
public static class NettyLeakDetection
{
    private const string Variable = "io.netty.leakDetection.level";

    /// <summary>Turns leak detection off for the process unless the environment asks for a level.</summary>
    public static void DisableUnlessAsked()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 }) ResourceLeakDetector.Level = ResourceLeakDetector.DetectionLevel.Disabled;
    }
}
