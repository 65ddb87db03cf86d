// Partition numbers for keyed records must equal Kafka's default partitioner's, so keys co-partition with Kafka clients.
using System.Text;
using Broker.Protocol.Records;
using Xunit;

namespace Broker.Protocol.Tests.Records;

public class KeyPartitionerTests
{
    // (murmur2 & 0x7fffffff) % n, cross-checked with kafka-python's DefaultPartitioner.
    [Theory]
    [InlineData("21", 3, 0)]
    [InlineData("21", 7, 3)]
    [InlineData("21", 100, 40)]
    [InlineData("foobar", 12, 6)]
    [InlineData("foobar", 100, 66)]
    [InlineData("a-little-bit-long-string", 7, 1)]
    [InlineData("a-little-bit-longer-string", 12, 11)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", 100, 77)]
    [InlineData("abc", 6, 3)]
    [InlineData("abc", 7, 4)]
    [InlineData("customer-42", 3, 0)]
    [InlineData("customer-42", 7, 1)]
    [InlineData("key-1", 7, 5)]
    public void Partition_matches_kafka_default_partitioner(string key, int partitions, int expected)
    {
        Assert.Equal(expected, KeyPartitioner.Partition(Encoding.ASCII.GetBytes(key), partitions));
    }

    [Fact]
    public void Negative_hash_masks_the_sign_bit_rather_than_negating()
    {
        // murmur2("21") = -973932308: Math.Abs would give 973932308 % 100 = 8, masking gives 40.
        var key = "21"u8;
        Assert.True(Murmur2.Hash(key) < 0);
        Assert.Equal(40, KeyPartitioner.Partition(key, 100));
    }

    [Fact]
    public void Partition_is_always_in_range()
    {
        Span<byte> key = stackalloc byte[8];
        for (var i = 0; i < 10_000; i++)
        {
            BitConverter.TryWriteBytes(key, (long)i * 2654435761);
            var p = KeyPartitioner.Partition(key, 13);
            Assert.InRange(p, 0, 12);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Non_positive_partition_count_is_rejected(int partitions)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyPartitioner.Partition("k"u8, partitions));
    }
}
