using System.Net;
using Microsoft.Extensions.Logging;

namespace Broker.Server.Controller.Quorum;

/// <summary>The metadata quorum's own log lines (DotNext's are its own): strangers refused at its ports.</summary>
internal static class QuorumLog
{
    private static readonly Action<ILogger, string, Exception?> RefusedPeer = LoggerMessage.Define<string>(LogLevel.Warning, new EventId(1, nameof(RefusedTlsPeer)),
        "metadata quorum: refused a peer's certificate: {Reason}; only nodes with a certificate from the cluster CA (broker.security.cluster-ca) may connect");

    private static readonly Action<ILogger, EndPoint?, string, Exception?> ChannelRefused = LoggerMessage.Define<EndPoint?, string>(LogLevel.Warning, new EventId(2, nameof(ChannelHandshakeFailed)),
        "controller channel: refused a connection from {Remote}: TLS handshake failed ({Reason}); only nodes of this cluster may propose metadata");

    public static void RefusedTlsPeer(this ILogger log, string reason) => RefusedPeer(log, reason, null);

    public static void ChannelHandshakeFailed(this ILogger log, EndPoint? remote, string reason) => ChannelRefused(log, remote, reason, null);
}
