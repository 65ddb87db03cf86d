using System.Net;
using Microsoft.Extensions.Logging;

namespace Broker.Server.Controller.Quorum;

/// <summary>The metadata quorum's own log lines (DotNext's are its own): strangers refused at its ports, an observer's outages.</summary>
internal static class QuorumLog
{
    private static readonly Action<ILogger, string, Exception?> RefusedPeer = LoggerMessage.Define<string>(LogLevel.Warning, new EventId(1, nameof(RefusedTlsPeer)),
        "metadata quorum: refused a peer's certificate: {Reason}; only nodes with a certificate from the cluster CA (broker.security.cluster-ca) may connect");

    private static readonly Action<ILogger, EndPoint?, string, Exception?> ChannelRefused = LoggerMessage.Define<EndPoint?, string>(LogLevel.Warning, new EventId(2, nameof(ChannelHandshakeFailed)),
        "controller channel: refused a connection from {Remote}: TLS handshake failed ({Reason}); only nodes of this cluster may propose metadata");

    private static readonly Action<ILogger, int, long, Exception?> CannotApply = LoggerMessage.Define<int, long>(LogLevel.Error, new EventId(3, nameof(ObserverCannotApply)),
        "node {NodeId} could not apply what a voter sent after index {Index}; retrying");

    private static readonly Action<ILogger, int, string, long, Exception?> Unanswered = LoggerMessage.Define<int, string, long>(LogLevel.Warning, new EventId(4, nameof(ObserverUnanswered)),
        "node {NodeId} gets no answer from a voter for the metadata log ({Reason}); its metadata stays at index {Index} until one answers");

    private static readonly Action<ILogger, int, double, long, Exception?> Answered = LoggerMessage.Define<int, double, long>(LogLevel.Warning, new EventId(5, nameof(ObserverAnsweredAgain)),
        "node {NodeId} follows the metadata log again after {Seconds:0.0}s without an answer from a voter (applied up to {Index})");

    private static readonly Action<ILogger, int, Exception?> Fenced = LoggerMessage.Define<int>(LogLevel.Warning, new EventId(6, nameof(CatchingUp)),
        "metadata quorum: voter {NodeId} starts on a new quorum directory, so it does not vote until it has caught up from the controller, or, in a new cluster, "
        + "until every voter answers that none holds a log (a voter that lost its disk must not help elect a leader without what it had acknowledged)");

    private static readonly Action<ILogger, int, string, Exception?> Joined = LoggerMessage.Define<int, string>(LogLevel.Warning, new EventId(7, nameof(JoinedVoters)),
        "metadata quorum: voter {NodeId} votes from now on: {Why}");

    public static void CatchingUp(this ILogger log, int nodeId) => Fenced(log, nodeId, null);

    public static void JoinedVoters(this ILogger log, int nodeId, string why) => Joined(log, nodeId, why, null);

    public static void ObserverCannotApply(this ILogger log, int nodeId, long index, Exception ex) => CannotApply(log, nodeId, index, ex);

    public static void ObserverUnanswered(this ILogger log, int nodeId, string reason, long index) => Unanswered(log, nodeId, reason, index, null);

    public static void ObserverAnsweredAgain(this ILogger log, int nodeId, double seconds, long index) => Answered(log, nodeId, seconds, index, null);

    public static void RefusedTlsPeer(this ILogger log, string reason) => RefusedPeer(log, reason, null);

    public static void ChannelHandshakeFailed(this ILogger log, EndPoint? remote, string reason) => ChannelRefused(log, remote, reason, null);
}
