// CRC-32C known vectors (the check value and RFC 3720's iSCSI test patterns) and hardware/table agreement.
using System.Text;
using Broker.Protocol.Records;
using Xunit;

namespace Broker.Protocol.Tests.Records;

public class Crc32CTests
{
    public static TheoryData<string, uint> Vectors()
    {
        var ascending = new byte[32];
        var descending = new byte[32];
        for (var i = 0; i < 32; i++)
        {
            ascending[i] = (byte)i;
            descending[i] = (byte)(31 - i);
        }
        return new TheoryData<string, uint>
        {
            { "", 0x00000000 },
            { Convert.ToHexString(Encoding.ASCII.GetBytes("123456789")), 0xE3069283 },
            { Convert.ToHexString(new byte[32]), 0x8A9136AA },
            { Convert.ToHexString(Enumerable.Repeat((byte)0xFF, 32).ToArray()), 0x62A8AB43 },
            { Convert.ToHexString(ascending), 0x46DD794E },
            { Convert.ToHexString(descending), 0x113FDB5C },
        };
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Compute_matches_known_vectors(string hex, uint expected)
    {
        var data = Convert.FromHexString(hex);

        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, Crc32C.AppendPortable(0, data));
    }

    [Fact]
    public void Check_value_of_123456789_is_E3069283()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(64)]
    [InlineData(1021)]
    public void Append_over_split_input_equals_compute_over_whole(int split)
    {
        var data = RandomBytes(1024, seed: split);

        var whole = Crc32C.Compute(data);
        var pieced = Crc32C.Append(Crc32C.Compute(data.AsSpan(0, split)), data.AsSpan(split));

        Assert.Equal(whole, pieced);
    }

    [Fact]
    public void Hardware_and_table_implementations_agree_on_every_length_and_alignment()
    {
        var data = RandomBytes(300, seed: 42);
        for (var start = 0; start < 8; start++)
        {
            for (var length = 0; start + length <= data.Length; length += 1 + length / 8)
            {
                var slice = data.AsSpan(start, length);
                Assert.Equal(Crc32C.AppendPortable(0x12345678, slice), Crc32C.Append(0x12345678, slice));
            }
        }
    }

    [Fact]
    public void Single_bit_flip_changes_the_crc()
    {
        var data = RandomBytes(1000, seed: 7);
        var before = Crc32C.Compute(data);
        data[500] ^= 0x10;

        Assert.NotEqual(before, Crc32C.Compute(data));
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
