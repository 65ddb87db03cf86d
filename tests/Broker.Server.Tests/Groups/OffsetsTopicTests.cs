using Broker.Server.Groups;
using Xunit;

namespace Broker.Server.Tests.Groups;

/// <summary>A group's partition is Kafka's: abs(Java String.hashCode) % partitions, so a Kafka engineer can predict it.</summary>
public sealed class OffsetsTopicTests
{
    [Theory]
    [InlineData("", 0)]
    [InlineData("a", 97)]
    [InlineData("hello", 99162322)]
    [InlineData("billing", -109829509)]
    [InlineData("polygenelubricants", int.MinValue)]
    public void The_hash_is_Javas_String_hashCode(string groupId, int javaHash) => Assert.Equal(javaHash, OffsetsTopic.JavaHashCode(groupId));

    [Fact]
    public void The_partition_is_abs_of_the_hash_modulo_the_count_and_int_MinValue_goes_to_0()
    {
        Assert.Equal(99162322 % 50, OffsetsTopic.PartitionFor("hello", 50));
        Assert.Equal(109829509 % 10, OffsetsTopic.PartitionFor("billing", 10));
        Assert.Equal(0, OffsetsTopic.PartitionFor("polygenelubricants", 7)); // Kafka's Utils.abs(Integer.MIN_VALUE) is 0
    }

    [Fact]
    public void Only_the_offsets_topic_is_internal() =>
        Assert.Equal((true, false), (OffsetsTopic.IsInternal("__consumer_offsets"), OffsetsTopic.IsInternal("orders")));
}
