using Akka.Actor;
using Akka.Event;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Membership;
using Broker.Server.Metadata;

namespace Broker.Server.Producers;

/// <summary>
/// Hands out producer ids for idempotent producers (InitProducerId) on this node, a child of the gateway. Ids
/// come from blocks the node reserves in the metadata store (<see cref="ProducerIdBlocks"/>, majority read then
/// majority write) before it uses them: a producer id is the node id in the high 32 bits and a number from the
/// node's blocks in the low 32, so ids are unique in the cluster for good, across restarts and lost data
/// directories. Requests that arrive while a block is being reserved wait for it.
/// </summary>
public sealed class ProducerIdManagerActor : ReceiveActor
{
    public const string Name = "producer-ids";

    /// <summary>Ids reserved per metadata write; a node restart wastes at most this many.</summary>
    public const long BlockSize = 1000;

    private readonly MetadataStore _store;
    private readonly int _nodeId;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<IActorRef> _waiting = new();
    private long _next;
    private long _end;
    private bool _reserving;

    public ProducerIdManagerActor(BrokerSettings settings)
    {
        _store = new MetadataStore(Context.System, settings.MetadataTimeout);
        _nodeId = NodeIdentity.Self(Context.System);
        Receive<InitProducerIdRequest>(_ => OnInit(Sender));
        Receive<BlockReserved>(OnReserved);
    }

    public static Props Props(BrokerSettings settings) => Akka.Actor.Props.Create(() => new ProducerIdManagerActor(settings));

    /// <summary>The producer id for number <paramref name="n"/> of node <paramref name="nodeId"/>'s blocks.</summary>
    public static long ProducerIdOf(int nodeId, long n) => ((long)nodeId << 32) | n;

    private void OnInit(IActorRef replyTo)
    {
        if (_next < _end)
        {
            replyTo.Tell(new InitProducerIdResponse(ErrorCode.None, null, ProducerIdOf(_nodeId, _next++), 0));
            return;
        }
        _waiting.Add(replyTo);
        if (_reserving) return;
        _reserving = true;
        ReserveAsync(_store, _nodeId).PipeTo(Self);
    }

    private static async Task<BlockReserved> ReserveAsync(MetadataStore store, int nodeId)
    {
        try
        {
            var key = ProducerIdBlocks.KeyOf(nodeId);
            var start = (await store.ProducerIdsAsync(majority: true).ConfigureAwait(false)).Get(key)?.Next ?? 0;
            var end = start + BlockSize;
            if (end > uint.MaxValue) return new BlockReserved(0, 0, $"node {nodeId} has handed out all its 2^32 producer ids; give this node a new --node-id");
            await store.UpdateProducerIdsAsync(blocks => blocks.Put(key, new ProducerIdBlock(end))).ConfigureAwait(false);
            return new BlockReserved(start, end, null);
        }
        catch (Exception ex) when (ex is MetadataUnavailableException or TaskCanceledException or AskTimeoutException)
        {
            return new BlockReserved(0, 0, ex.Message);
        }
    }

    private void OnReserved(BlockReserved reserved)
    {
        _reserving = false;
        var waiting = _waiting.ToArray();
        _waiting.Clear();
        if (reserved.Failure is { } failure)
        {
            // Never hand out ids from a block that may not be reserved: the next request tries again.
            _log.Warning("producer ids: could not reserve a block ({0})", failure);
            foreach (var replyTo in waiting)
                replyTo.Tell(new InitProducerIdResponse(ErrorCode.BrokerNotAvailable, $"no producer id available: {failure}; retry (a majority of nodes must be up)", -1, -1));
            return;
        }
        _next = reserved.Start;
        _end = reserved.End;
        _log.Info("producer ids: node {0} reserved ids {1}..{2}", _nodeId, ProducerIdOf(_nodeId, _next), ProducerIdOf(_nodeId, _end - 1));
        foreach (var replyTo in waiting) OnInit(replyTo);
    }

    private sealed record BlockReserved(long Start, long End, string? Failure);
}
