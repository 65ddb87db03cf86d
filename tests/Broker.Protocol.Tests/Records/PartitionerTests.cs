using System.Text;
using Broker.Protocol.Records;
using Xunit;

namespace Broker.Protocol.Tests.Records;

/// <summary>Vectors from Kafka's UtilsTest.testMurmur2, so keys land on the partitions a Kafka client would choose.</summary>
public sealed class PartitionerTests
{
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2_matches_Kafka(string key, int expected) => Assert.Equal(expected, Murmur2.Hash(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public void Partition_is_positive_murmur2_modulo_partition_count()
    {
        // "foobar": -790332482 & 0x7fffffff = 1357151166; 1357151166 % 12 = 6
        Assert.Equal(1357151166 % 12, KeyPartitioner.Partition("foobar"u8, 12));
        for (var i = 0; i < 1000; i++)
        {
            var p = KeyPartitioner.Partition(Encoding.UTF8.GetBytes($"key-{i}"), 7);
            Assert.InRange(p, 0, 6);
        }
    }
}
