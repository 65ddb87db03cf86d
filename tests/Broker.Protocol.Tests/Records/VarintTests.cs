// Zig-zag varints: the encodings Kafka's ByteUtils produces, sizes, and rejection of truncated or overlong input.
using Broker.Protocol.Records;
using Xunit;

namespace Broker.Protocol.Tests.Records;

public class VarintTests
{
    [Theory]
    [InlineData(0L, "00")]
    [InlineData(-1L, "01")]
    [InlineData(1L, "02")]
    [InlineData(-64L, "7F")]
    [InlineData(63L, "7E")]
    [InlineData(64L, "8001")]
    [InlineData(300L, "D804")]
    [InlineData(int.MaxValue, "FEFFFFFF0F")]
    [InlineData(int.MinValue, "FFFFFFFF0F")]
    [InlineData(long.MaxValue, "FEFFFFFFFFFFFFFFFF01")]
    [InlineData(long.MinValue, "FFFFFFFFFFFFFFFFFF01")]
    public void Write_produces_zigzag_encoding_and_Read_inverts_it(long value, string hex)
    {
        var buffer = new byte[Varint.MaxLength];
        var written = Varint.Write(buffer, value);

        Assert.Equal(hex, Convert.ToHexString(buffer, 0, written));
        Assert.Equal(written, Varint.SizeOf(value));
        var position = 0;
        Assert.Equal(value, Varint.Read(buffer, ref position));
        Assert.Equal(written, position);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(8191)]
    [InlineData(8192)]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue)]
    public void Int_size_matches_bytes_written(int value)
    {
        var buffer = new byte[Varint.MaxLength];
        Assert.Equal(Varint.Write(buffer, value), Varint.SizeOf(value));
    }

    [Fact]
    public void Truncated_varint_throws_InvalidDataException()
    {
        var position = 0;
        Assert.Throws<InvalidDataException>(() => Varint.Read([0x80, 0x80], ref position));
    }

    [Fact]
    public void Varint_longer_than_ten_bytes_throws_InvalidDataException()
    {
        var bytes = Enumerable.Repeat((byte)0xFF, 11).Append((byte)0x01).ToArray();
        var position = 0;
        Assert.Throws<InvalidDataException>(() => Varint.Read(bytes, ref position));
    }

    [Fact]
    public void ReadInt_rejects_values_outside_int_range()
    {
        var buffer = new byte[Varint.MaxLength];
        Varint.Write(buffer, (long)int.MaxValue + 1);
        var position = 0;
        Assert.Throws<InvalidDataException>(() => Varint.ReadInt(buffer, ref position));
    }
}
