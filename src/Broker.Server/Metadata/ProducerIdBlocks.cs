using System.Collections.Immutable;
using Akka.DistributedData;

namespace Broker.Server.Metadata;

/// <summary>The first producer id a node has not handed out yet; only ever grows.</summary>
public sealed record ProducerIdBlock(long Next) : IComparable<ProducerIdBlock>
{
    public int CompareTo(ProducerIdBlock? other) => other is null ? 1 : Next.CompareTo(other.Next);
}

/// <summary>
/// Producer ids each node has reserved for idempotent producers, keyed <c>node-&lt;id&gt;</c>. A node reserves a
/// block by writing a higher <see cref="ProducerIdBlock.Next"/> to a majority before it hands out any id from it,
/// so an id is never given twice, even by a node that comes back with an empty data directory (it reads the
/// majority's copy first). Each node writes only its own key, so nodes never race for a block; the node id in
/// the high bits keeps their ids apart (Kafka's controller hands out blocks from one counter instead).
/// Key <see cref="MetadataKeys.ProducerIds"/>.
/// </summary>
public sealed class ProducerIdBlocks : VersionedMap<ProducerIdBlock, ProducerIdBlocks>
{
    public static readonly ProducerIdBlocks Empty = new(ImmutableSortedDictionary.Create<string, ProducerIdBlock>(StringComparer.Ordinal));

    public ProducerIdBlocks(ImmutableSortedDictionary<string, ProducerIdBlock> entries) : base(entries) { }

    protected override ProducerIdBlocks With(ImmutableSortedDictionary<string, ProducerIdBlock> entries) => new(entries);

    public static string KeyOf(int nodeId) => $"node-{nodeId}";
}

public sealed class ProducerIdBlocksKey() : Key<ProducerIdBlocks>(MetadataKeys.ProducerIdsId);
