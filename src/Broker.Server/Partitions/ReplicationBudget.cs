using Akka.Actor;

namespace Broker.Server.Partitions;

/// <summary>A leader replica waiting in a <see cref="ReplicationBudget{TNode}"/>'s line.</summary>
public interface IReplicationBudgetWaiter<in TNode>
{
    /// <summary>Bytes toward <paramref name="node"/> were set aside for it: its next <c>Reserve</c> for that node takes them. Called on any thread.</summary>
    void BytesGranted(TNode node);
}

/// <summary>
/// A node-wide cap on the replication bytes a leader node has queued toward each follower node (issue 18: replication
/// must not starve heartbeats). Every fetch answer with records travels on the one Akka.Remote connection that also
/// carries the cluster's heartbeats and gossip; without a cap, a node catching up on many partitions has hundreds of
/// 4 MiB answers queued ahead of a heartbeat, and is marked unreachable. Shared by all partition replicas of a node
/// (<see cref="ReplicationBudgets"/>), so it is thread-safe; a plain class with an injected clock, as Kafka's
/// ReplicationQuotaManager is to its fetcher.
///
/// Rules, per follower node:
/// - A leader answering a fetch with records reserves the answer's bytes (<see cref="Reserve"/>): as much as it wants
///   when the bytes not yet delivered leave room, else what is left (the answer is trimmed to whole batches), but never
///   less than its first batch; nothing in flight toward the node lets even a batch larger than the cap go, alone, so
///   every partition makes progress. When not even the first batch fits, the fetch waits in line.
/// - An answer's bytes stop counting when its follower's next fetch arrives (<see cref="Delivered"/>): a follower fetches
///   again only after it received, and persisted, the previous answer. Also when the follower's node leaves the cluster
///   (<see cref="NodeRemoved"/>), when the leader stops leading (<see cref="Withdraw"/>), and, as a backstop for a
///   follower that went away, after <c>holdLimit</c>.
/// - Waiters are served in order of arrival, followers in the ISR before followers catching up, so an in-sync follower
///   is not held behind a restarted node's backlog (a long wait would push it out of the ISR and hold the high
///   watermark), and a partition needing a large batch is not overtaken for ever by small ones. A waiter whose follower
///   fetches again keeps its place.
/// - Empty answers (long polls that time out) reserve nothing: a thousand idle partitions hold no budget.
/// </summary>
public sealed class ReplicationBudget<TNode> where TNode : notnull
{
    private readonly object _lock = new();
    private readonly Dictionary<TNode, Peer> _peers = new();
    private readonly long _maxBytesInFlight;
    private readonly TimeSpan _holdLimit;
    private readonly TimeSpan _sweepEvery;
    private readonly TimeProvider _clock;

    /// <param name="maxBytesInFlightPerNode">The most record bytes queued toward one follower node at a time (one batch may exceed it when nothing else is in flight).</param>
    /// <param name="holdLimit">How long a reservation may go unreleased before it is dropped (its follower is taken to be gone).</param>
    /// <param name="clock">The clock the hold limit is measured on.</param>
    public ReplicationBudget(long maxBytesInFlightPerNode, TimeSpan holdLimit, TimeProvider clock)
    {
        if (maxBytesInFlightPerNode <= 0) throw new ArgumentOutOfRangeException(nameof(maxBytesInFlightPerNode), maxBytesInFlightPerNode, "must be positive");
        _maxBytesInFlight = maxBytesInFlightPerNode;
        _holdLimit = holdLimit;
        // Expired reservations are looked for at most this often per node: a scan of its reservations, not per call.
        _sweepEvery = holdLimit / 4;
        _clock = clock;
    }

    /// <summary>Bytes reserved toward <paramref name="node"/> (held by answers in flight, or set aside for a waiter).</summary>
    public long InFlight(TNode node)
    {
        lock (_lock) return _peers.TryGetValue(node, out var peer) ? peer.InFlight : 0;
    }

    /// <summary>Fetches waiting in line for bytes toward <paramref name="node"/>.</summary>
    public int Waiting(TNode node)
    {
        lock (_lock) return _peers.TryGetValue(node, out var peer) ? peer.InSyncLine.Count + peer.CatchingUpLine.Count : 0;
    }

    /// <summary>
    /// Reserves bytes for an answer of <paramref name="holder"/> toward <paramref name="node"/> that would hold
    /// <paramref name="wantedBytes"/> and starts with a batch of <paramref name="firstBatchBytes"/>. Returns the bytes
    /// the answer may hold (at least the first batch, at most what it wants), to be corrected with <see cref="Settle"/>
    /// once read; or 0: the holder waits in line and is told (<see cref="IReplicationBudgetWaiter{TNode}.BytesGranted"/>)
    /// when bytes were set aside for it, which its next call here takes.
    /// </summary>
    public long Reserve(TNode node, IReplicationBudgetWaiter<TNode> holder, long firstBatchBytes, long wantedBytes, bool inSync)
    {
        var first = Math.Max(1, firstBatchBytes);
        var wanted = Math.Max(first, wantedBytes);
        List<IReplicationBudgetWaiter<TNode>>? granted = null;
        long result;
        lock (_lock)
        {
            var now = _clock.GetTimestamp();
            var peer = PeerOf(node);
            Sweep(peer, now, ref granted);
            result = ReserveLocked(peer, holder, first, wanted, inSync, now, ref granted);
        }
        Notify(granted, node);
        return result;
    }

    private long ReserveLocked(Peer peer, IReplicationBudgetWaiter<TNode> holder, long first, long wanted, bool inSync, long now, ref List<IReplicationBudgetWaiter<TNode>>? granted)
    {
        if (peer.Slots.TryGetValue(holder, out var slot))
        {
            switch (slot.State)
            {
                case SlotState.Granted:
                    // Set aside while it waited: the answer takes it (it holds at least the first batch it waited for).
                    slot.State = SlotState.Held;
                    slot.Since = now;
                    return slot.Bytes;
                case SlotState.Waiting:
                    // Its follower fetched again while it waited: same place in line, the newer sizes.
                    slot.FirstBatch = first;
                    slot.Wanted = wanted;
                    return 0;
                default:
                    // An earlier answer nobody released (the follower's next fetch was not reported): this one replaces it.
                    Free(peer, slot, ref granted);
                    break;
            }
        }
        var line = inSync ? peer.InSyncLine : peer.CatchingUpLine;
        // Nobody overtakes a waiter: an in-sync follower waits only behind in-sync ones, the others behind everyone.
        var mayGo = inSync ? peer.InSyncLine.Count == 0 : peer.InSyncLine.Count == 0 && peer.CatchingUpLine.Count == 0;
        if (mayGo && Fits(peer, first))
        {
            var bytes = Grant(peer, first, wanted);
            peer.Slots[holder] = new Slot(holder) { State = SlotState.Held, Bytes = bytes, Since = now };
            return bytes;
        }
        var waiting = new Slot(holder) { State = SlotState.Waiting, FirstBatch = first, Wanted = wanted };
        waiting.InLine = line.AddLast(waiting);
        peer.Slots[holder] = waiting;
        return 0;
    }

    /// <summary>
    /// The answer read holds <paramref name="actualBytes"/> (at most what was reserved, 0 if the read failed): the
    /// reservation shrinks to it.
    /// </summary>
    public void Settle(TNode node, IReplicationBudgetWaiter<TNode> holder, long actualBytes)
    {
        List<IReplicationBudgetWaiter<TNode>>? granted = null;
        lock (_lock)
        {
            if (!_peers.TryGetValue(node, out var peer) || !peer.Slots.TryGetValue(holder, out var slot) || slot.State != SlotState.Held) return;
            if (actualBytes <= 0)
            {
                Free(peer, slot, ref granted);
            }
            else if (actualBytes != slot.Bytes)
            {
                // Larger only if the log changed under a cold read; count what is really sent.
                peer.InFlight += actualBytes - slot.Bytes;
                slot.Bytes = actualBytes;
                Pump(peer, _clock.GetTimestamp(), ref granted);
            }
        }
        Notify(granted, node);
    }

    /// <summary>
    /// <paramref name="holder"/>'s follower on <paramref name="node"/> sent its next fetch, so it has the previous
    /// answer: that answer's bytes are no longer queued. A place in line, or bytes set aside and not yet taken, stay
    /// for this fetch.
    /// </summary>
    public void Delivered(TNode node, IReplicationBudgetWaiter<TNode> holder)
    {
        List<IReplicationBudgetWaiter<TNode>>? granted = null;
        lock (_lock)
        {
            if (!_peers.TryGetValue(node, out var peer)) return;
            var now = _clock.GetTimestamp();
            if (peer.Slots.TryGetValue(holder, out var slot) && slot.State == SlotState.Held) Free(peer, slot, ref granted);
            Sweep(peer, now, ref granted);
        }
        Notify(granted, node);
    }

    /// <summary><paramref name="holder"/> no longer waits to send toward <paramref name="node"/>: its place in line, or bytes set aside for it, go to the next. An answer in flight still counts.</summary>
    public void CancelWait(TNode node, IReplicationBudgetWaiter<TNode> holder)
    {
        List<IReplicationBudgetWaiter<TNode>>? granted = null;
        lock (_lock)
        {
            if (!_peers.TryGetValue(node, out var peer) || !peer.Slots.TryGetValue(holder, out var slot) || slot.State == SlotState.Held) return;
            Free(peer, slot, ref granted);
        }
        Notify(granted, node);
    }

    /// <summary><paramref name="holder"/> stopped leading (or stopped): everything it holds or waits for, toward every node, is released.</summary>
    public void Withdraw(IReplicationBudgetWaiter<TNode> holder)
    {
        List<(TNode, IReplicationBudgetWaiter<TNode>)>? notify = null;
        lock (_lock)
        {
            foreach (var (node, peer) in _peers)
            {
                if (!peer.Slots.TryGetValue(holder, out var slot)) continue;
                List<IReplicationBudgetWaiter<TNode>>? granted = null;
                Free(peer, slot, ref granted);
                if (granted is null) continue;
                notify ??= new();
                foreach (var g in granted) notify.Add((node, g));
            }
        }
        if (notify is null) return;
        foreach (var (node, waiter) in notify) waiter.BytesGranted(node);
    }

    /// <summary>
    /// <paramref name="node"/> left the cluster: nothing queued toward it will be delivered, and its waiters' fetches
    /// will not be answered; forget them all (a new incarnation at the same address starts from nothing).
    /// </summary>
    public void NodeRemoved(TNode node)
    {
        lock (_lock) _peers.Remove(node);
    }

    private Peer PeerOf(TNode node)
    {
        if (!_peers.TryGetValue(node, out var peer))
        {
            peer = new Peer(_clock.GetTimestamp());
            _peers[node] = peer;
        }
        return peer;
    }

    private bool Fits(Peer peer, long first) => peer.InFlight == 0 || _maxBytesInFlight - peer.InFlight >= first;

    /// <summary>What an answer may hold: what it wants if that fits, else what is left, and never less than its first batch.</summary>
    private long Grant(Peer peer, long first, long wanted)
    {
        var bytes = Math.Max(first, Math.Min(wanted, _maxBytesInFlight - peer.InFlight));
        peer.InFlight += bytes;
        return bytes;
    }

    private void Free(Peer peer, Slot slot, ref List<IReplicationBudgetWaiter<TNode>>? granted)
    {
        peer.Slots.Remove(slot.Holder);
        if (slot.InLine is { } node)
        {
            node.List!.Remove(node);
            slot.InLine = null;
        }
        // A waiter leaving the head of the line may let the smaller first batch behind it fit.
        if (slot.State != SlotState.Waiting) peer.InFlight -= slot.Bytes;
        Pump(peer, _clock.GetTimestamp(), ref granted);
    }

    /// <summary>Sets bytes aside for waiters, first in line first, while the next one's first batch fits.</summary>
    private void Pump(Peer peer, long now, ref List<IReplicationBudgetWaiter<TNode>>? granted)
    {
        while ((peer.InSyncLine.First ?? peer.CatchingUpLine.First) is { } next)
        {
            var slot = next.Value;
            if (!Fits(peer, slot.FirstBatch)) return;
            next.List!.Remove(next);
            slot.InLine = null;
            slot.State = SlotState.Granted;
            slot.Bytes = Grant(peer, slot.FirstBatch, slot.Wanted);
            slot.Since = now;
            (granted ??= new()).Add(slot.Holder);
        }
    }

    /// <summary>The backstop: reservations older than the hold limit are dropped (their follower stopped fetching from here).</summary>
    private void Sweep(Peer peer, long now, ref List<IReplicationBudgetWaiter<TNode>>? granted)
    {
        if (_clock.GetElapsedTime(peer.LastSweep, now) < _sweepEvery) return;
        peer.LastSweep = now;
        List<Slot>? expired = null;
        foreach (var slot in peer.Slots.Values)
            if (slot.State != SlotState.Waiting && _clock.GetElapsedTime(slot.Since, now) >= _holdLimit) (expired ??= new()).Add(slot);
        if (expired is null) return;
        foreach (var slot in expired) Free(peer, slot, ref granted);
    }

    private static void Notify(List<IReplicationBudgetWaiter<TNode>>? granted, TNode node)
    {
        // Outside the lock: a waiter's callback may come back here.
        if (granted is null) return;
        foreach (var waiter in granted) waiter.BytesGranted(node);
    }

    private enum SlotState
    {
        /// <summary>In line, nothing reserved.</summary>
        Waiting,
        /// <summary>Bytes set aside for a waiter, not yet taken by an answer.</summary>
        Granted,
        /// <summary>An answer's bytes, in flight until the follower's next fetch.</summary>
        Held,
    }

    private sealed class Slot(IReplicationBudgetWaiter<TNode> holder)
    {
        public IReplicationBudgetWaiter<TNode> Holder { get; } = holder;
        public SlotState State;
        public long Bytes;
        public long Since;
        public long FirstBatch;
        public long Wanted;
        public LinkedListNode<Slot>? InLine;
    }

    private sealed class Peer(long now)
    {
        public readonly Dictionary<IReplicationBudgetWaiter<TNode>, Slot> Slots = new(ReferenceEqualityComparer.Instance);
        public readonly LinkedList<Slot> InSyncLine = new();
        public readonly LinkedList<Slot> CatchingUpLine = new();
        public long InFlight;
        public long LastSweep = now;
    }
}

/// <summary>
/// The node's one <see cref="ReplicationBudget{TNode}"/>, per follower node address, shared by its partition replicas
/// (an ActorSystem extension: a node that restarts in its process gets a new one with its new ActorSystem).
/// </summary>
public sealed class ReplicationBudgets(ReplicationBudget<Address> budget) : IExtension
{
    public ReplicationBudget<Address> Budget { get; } = budget;

    /// <summary>The budget of <paramref name="system"/>, made from <paramref name="settings"/> by the first replica that asks.</summary>
    public static ReplicationBudget<Address> Of(ActorSystem system, BrokerSettings settings) =>
        ((ReplicationBudgets)system.RegisterExtension(new ReplicationBudgetsProvider(settings))).Budget;
}

/// <summary>
/// Makes a node's budget from <c>broker.replication.max-bytes-in-flight-per-node</c>. A reservation is dropped after
/// fetch-wait + fetch-timeout: by then its follower has given up on the answer too and fetched again.
/// </summary>
public sealed class ReplicationBudgetsProvider(BrokerSettings settings) : ExtensionIdProvider<ReplicationBudgets>
{
    public override ReplicationBudgets CreateExtension(ExtendedActorSystem system) =>
        new(new ReplicationBudget<Address>(settings.ReplicationMaxBytesInFlightPerNode, settings.ReplicaFetchWait + settings.ReplicaFetchTimeout, TimeProvider.System));
}
