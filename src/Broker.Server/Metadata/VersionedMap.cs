using System.Collections.Immutable;
using Akka.DistributedData;
using Broker.Server.Serialization;

namespace Broker.Server.Metadata;

/// <summary>
/// A replicated map whose entries only move forward: merging two copies keeps, per key, the entry that
/// sorts higher (by version, then a deterministic tie-break). That is a CRDT (merge is commutative,
/// associative and idempotent), so Akka.DistributedData can gossip it and store it durably, and no copy
/// can ever take a key back to an older version: a node that restarts with a stale or empty copy merges
/// up to the newest one and never wins against it.
/// </summary>
public abstract class VersionedMap<TValue, TSelf> : IReplicatedData<TSelf>, IServerMessage
    where TValue : class, IComparable<TValue>
    where TSelf : VersionedMap<TValue, TSelf>
{
    protected VersionedMap(ImmutableSortedDictionary<string, TValue> entries) => Entries = entries;

    public ImmutableSortedDictionary<string, TValue> Entries { get; }

    protected abstract TSelf With(ImmutableSortedDictionary<string, TValue> entries);

    public TValue? Get(string key) => Entries.TryGetValue(key, out var value) ? value : null;

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> if it is newer than what is there; otherwise returns this map unchanged.</summary>
    public TSelf Put(string key, TValue value)
    {
        if (Entries.TryGetValue(key, out var current) && current.CompareTo(value) >= 0) return (TSelf)this;
        return With(Entries.SetItem(key, value));
    }

    public TSelf Merge(TSelf other)
    {
        if (ReferenceEquals(this, other) || other.Entries.Count == 0) return (TSelf)this;
        var builder = Entries.ToBuilder();
        foreach (var (key, theirs) in other.Entries)
        {
            if (!builder.TryGetValue(key, out var ours) || ours.CompareTo(theirs) < 0) builder[key] = theirs;
        }
        return With(builder.ToImmutable());
    }

    IReplicatedData IReplicatedData.Merge(IReplicatedData other) => Merge((TSelf)other);

    public override string ToString() => $"{GetType().Name}({Entries.Count} entries)";
}
