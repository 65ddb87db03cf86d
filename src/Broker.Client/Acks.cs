// How many acknowledgements a producer waits for; values are Kafka's acks settings.
namespace Broker.Client;

/// <summary>What a produce waits for before a record counts as delivered.</summary>
public enum Acks : short
{
    /// <summary>Send and do not wait: delivery reports complete once sent, with offset -1.</summary>
    None = 0,
    /// <summary>Wait until the partition's node has persisted the batch.</summary>
    Leader = 1,
    /// <summary>Wait until every in-sync replica has persisted it, with at least the topic's min.insync.replicas in the ISR (else NotEnoughReplicas).</summary>
    All = -1,
}
