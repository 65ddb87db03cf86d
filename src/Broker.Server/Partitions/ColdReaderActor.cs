using Akka.Actor;
using Akka.Persistence;

namespace Broker.Server.Partitions;

/// <summary>
/// Reads a range of a partition's journal back for one fetch that is older than the tail cache: it
/// asks the journal to replay events [from, to] and hands the batches to its parent, then stops.
/// The partition keeps serving appends and other fetches while the journal reads.
/// </summary>
public sealed class ColdReaderActor : ReceiveActor
{
    private readonly List<(long SequenceNr, byte[] Batch)> _batches = new();

    public ColdReaderActor(IActorRef journal, string persistenceId, long fromSequenceNr, long toSequenceNr, long requestId, TimeSpan timeout)
    {
        journal.Tell(new ReplayMessages(fromSequenceNr, toSequenceNr, long.MaxValue, persistenceId, Self));
        SetReceiveTimeout(timeout);

        Receive<ReplayedMessage>(m =>
        {
            if (m.Persistent.Payload is BatchAppended appended) _batches.Add((m.Persistent.SequenceNr, appended.Batch));
        });
        Receive<RecoverySuccess>(_ => Finish(requestId, null));
        Receive<ReplayMessagesFailure>(f => Finish(requestId, $"reading the journal failed: {f.Cause.Message}"));
        Receive<ReceiveTimeout>(_ => Finish(requestId, $"reading the journal took longer than {timeout.TotalSeconds:0}s"));
    }

    public static Props Props(IActorRef journal, string persistenceId, long from, long to, long requestId, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new ColdReaderActor(journal, persistenceId, from, to, requestId, timeout));

    private void Finish(long requestId, string? failure)
    {
        Context.Parent.Tell(new ColdBatchesRead(requestId, _batches, failure));
        Context.Stop(Self);
    }
}
