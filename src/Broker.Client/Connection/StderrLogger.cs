// Akka logger of the client's ActorSystem: writes to stderr, so a program that prints records on stdout
// (the `broker` CLI, a pipe) never gets Akka's warnings mixed into its output.
using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace Broker.Client.Connection;

internal sealed class StderrLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public StderrLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            if (e is Error && e.Message?.ToString() is { } text && text.StartsWith("TLS handshake failed", StringComparison.Ordinal))
            {
                ClientActorSystem.Tls?.HandshakeFailed(e.Cause?.Message ?? "no detail");
            }
            if (IsConnectionChatter(e)) return;
            var error = e is Error { Cause: { } cause } ? $" {cause.GetType().Name}: {cause.Message}" : "";
            Console.Error.WriteLine($"[broker-client {e.LogLevel().ToString().Replace("Level", "").ToUpperInvariant()}] {e.LogSource}: {e.Message}{error}");
        });
    }

    /// <summary>
    /// Akka.Remote's warnings about a node it cannot reach or that went away: the request that needed the
    /// node fails with BrokerNotAvailable or RequestTimedOut, whose message says the same with the fix.
    /// Also DotNetty's note, when the client shuts down, that a closed channel was already gone.
    /// </summary>
    private static bool IsConnectionChatter(LogEvent e) =>
        e is Warning or Error
        && e.Message?.ToString() is { } text
        && (text.StartsWith("Tried to associate with unreachable remote address", StringComparison.Ordinal)
            || text.StartsWith("Association with remote system", StringComparison.Ordinal)
            || text.Contains("Disassociated", StringComparison.Ordinal)
            || text.StartsWith("Unable to REMOVE channel", StringComparison.Ordinal));
}
