using System.Collections.Immutable;
using Broker.Server.Controller;
using Xunit;

namespace Broker.Server.Tests.Controller;

/// <summary>The partitions a record changed, as a replica subscribed to the image needs them.</summary>
public sealed class MetadataDeltaTests
{
    private readonly MetadataStateMachine _sm = new();
    private long _index;

    private (MetadataImage Before, MetadataImage After) Apply(MetadataRecord record)
    {
        var before = _sm.Image;
        Assert.True(_sm.Apply(record, ++_index).Accepted, record.ToString());
        return (before, _sm.Image);
    }

    private void Setup()
    {
        for (var b = 1; b <= 3; b++)
        {
            Apply(new RegisterBroker(b, Guid.NewGuid(), -1));
            Apply(new UnfenceBroker(b, _sm.Image.Brokers[b].BrokerEpoch));
        }
        var none = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);
        Apply(new CreateTopic("a", "a1", 3, none, [[1, 2, 3], [2, 3, 1], [3, 1, 2]]));
        Apply(new CreateTopic("b", "b1", 3, none, [[1, 2, 3]]));
    }

    [Fact]
    public void Fencing_a_broker_lists_exactly_the_partitions_it_led_or_was_in_sync_for()
    {
        Setup();
        var (before, after) = Apply(new FenceBroker(1, _sm.Image.Brokers[1].BrokerEpoch));
        var changed = MetadataDelta.ChangedPartitions(before, after);
        Assert.Equal(4, changed.Count); // every partition had 1 in its ISR
        var a0 = Assert.Single(changed, c => c.TopicName == "a" && c.Partition == 0);
        Assert.Equal(1, a0.Before!.Leader);
        Assert.Equal(2, a0.After!.Leader);
    }

    [Fact]
    public void An_isr_change_lists_one_partition_and_a_broker_record_none()
    {
        Setup();
        var s = _sm.Image.Partition("a1", 1)!;
        var (before, after) = Apply(new AlterPartition("a1", 1, s.Leader, _sm.Image.Brokers[s.Leader].BrokerEpoch, s.LeaderEpoch, s.PartitionEpoch, [2, 3]));
        var changed = Assert.Single(MetadataDelta.ChangedPartitions(before, after));
        Assert.Equal(("a", 1), (changed.TopicName, changed.Partition));
        (before, after) = Apply(new AllocateProducerIds(1, _sm.Image.Brokers[1].BrokerEpoch, 10));
        Assert.Empty(MetadataDelta.ChangedPartitions(before, after));
    }

    [Fact]
    public void Created_and_deleted_topics_list_all_their_partitions()
    {
        Setup();
        var created = MetadataDelta.ChangedPartitions(MetadataImage.Empty with { Brokers = _sm.Image.Brokers }, _sm.Image);
        Assert.Equal(4, created.Count);
        Assert.All(created, c => Assert.Null(c.Before));
        var (before, after) = Apply(new DeleteTopic("a1"));
        var deleted = MetadataDelta.ChangedPartitions(before, after);
        Assert.Equal(3, deleted.Count);
        Assert.All(deleted, d => Assert.Null(d.After));
    }
}
