// The primitive wire format: big-endian fixed ints, int32 length prefixes with -1 for null, slices on
// read, and WireFormatException (never an oversized allocation) for anything that does not fit.
using System.Runtime.InteropServices;
using Broker.Protocol.Serialization;
using Xunit;

namespace Broker.Protocol.Tests.Serialization;

public sealed class WireWriterReaderTests
{
    [Fact]
    public void Integers_are_written_big_endian()
    {
        using var w = new WireWriter();
        w.WriteInt16(0x0102);
        w.WriteInt32(0x03040506);
        w.WriteInt64(0x0708090A0B0C0D0E);

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 }, w.ToArray());
    }

    [Fact]
    public void Every_primitive_round_trips_including_extremes()
    {
        using var w = new WireWriter();
        w.WriteByte(0xFF);
        w.WriteBool(true);
        w.WriteBool(false);
        w.WriteInt16(short.MinValue);
        w.WriteInt32(int.MinValue);
        w.WriteInt64(long.MaxValue);
        w.WriteInt64(-1);
        w.WriteCount(3);

        var r = new WireReader(w.ToArray());
        Assert.Equal(0xFF, r.ReadByte());
        Assert.True(r.ReadBool());
        Assert.False(r.ReadBool());
        Assert.Equal(short.MinValue, r.ReadInt16());
        Assert.Equal(int.MinValue, r.ReadInt32());
        Assert.Equal(long.MaxValue, r.ReadInt64());
        Assert.Equal(-1L, r.ReadInt64());
        Assert.Equal(3, r.ReadCount(minItemBytes: 0));
        r.EnsureEnd();
    }

    [Fact]
    public void Strings_keep_null_empty_and_non_ascii_apart()
    {
        using var w = new WireWriter();
        w.WriteString(null);
        w.WriteString("");
        w.WriteString("zürich 東京 🚀");

        var bytes = w.ToArray();
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0 }, bytes[..8]);
        var r = new WireReader(bytes);
        Assert.Null(r.ReadString());
        Assert.Equal("", r.ReadString());
        Assert.Equal("zürich 東京 🚀", r.ReadString());
        Assert.Equal(0, r.Remaining);
    }

    [Fact]
    public void Byte_blocks_are_read_as_slices_of_the_input()
    {
        using var w = new WireWriter();
        w.WriteInt32(99);
        w.WriteBytes(new byte[] { 1, 2, 3 });
        w.WriteNullableBytes(null);
        w.WriteNullableBytes(ReadOnlyMemory<byte>.Empty);
        w.WriteNullableBytes(new byte[] { 4 });
        var input = w.ToArray();

        var r = new WireReader(input);
        r.ReadInt32();
        var block = r.ReadBytesAsMemory();
        Assert.Equal(new byte[] { 1, 2, 3 }, block.ToArray());
        Assert.True(MemoryMarshal.TryGetArray(block, out var segment));
        Assert.Same(input, segment.Array);
        Assert.Equal(8, segment.Offset);
        Assert.Null(r.ReadNullableBytes());
        var empty = r.ReadNullableBytes();
        Assert.NotNull(empty);
        Assert.Equal(0, empty.Value.Length);
        Assert.Equal(new byte[] { 4 }, r.ReadNullableBytes()!.Value.ToArray());
        r.EnsureEnd();
    }

    [Fact]
    public void String_lists_keep_null_distinct_from_empty()
    {
        using var w = new WireWriter();
        w.WriteStringList(null);
        w.WriteStringList([]);
        w.WriteStringList(["a", "", "c"]);

        var r = new WireReader(w.ToArray());
        Assert.Null(r.ReadStringList());
        Assert.Empty(r.ReadStringList()!);
        Assert.Equal(["a", "", "c"], r.ReadStringList()!);
    }

    [Fact]
    public void String_maps_round_trip_and_null_is_written_as_empty()
    {
        using var w = new WireWriter();
        w.WriteStringMap(new Dictionary<string, string> { ["retention.ms"] = "1000", ["cleanup.policy"] = "delete" });
        w.WriteStringMap(null);

        var r = new WireReader(w.ToArray());
        var map = r.ReadStringMap();
        Assert.Equal(2, map.Count);
        Assert.Equal("1000", map["retention.ms"]);
        Assert.Equal("delete", map["cleanup.policy"]);
        Assert.Empty(r.ReadStringMap());
    }

    [Fact]
    public void Pooled_writer_grows_past_its_initial_capacity()
    {
        var payload = new byte[100_000];
        new Random(3).NextBytes(payload);
        using var w = new WireWriter(16);
        for (var i = 0; i < 1000; i++) w.WriteInt32(i);
        w.WriteBytes(payload);

        var r = new WireReader(w.ToArray());
        for (var i = 0; i < 1000; i++) Assert.Equal(i, r.ReadInt32());
        Assert.True(r.ReadBytesAsMemory().Span.SequenceEqual(payload));
        r.EnsureEnd();
    }

    [Fact]
    public void Exact_size_writer_filled_exactly_hands_over_its_buffer_without_copying()
    {
        using var w = WireWriter.WithExactSize(4 + 4 + 3);
        w.WriteInt32(7);
        w.WriteBytes(new byte[] { 1, 2, 3 });

        var first = w.ToArray();
        Assert.Same(first, w.ToArray());
        Assert.Equal(11, first.Length);
    }

    [Fact]
    public void Exact_size_writer_still_works_when_the_estimate_is_wrong()
    {
        using var under = WireWriter.WithExactSize(2);
        under.WriteInt64(42);
        Assert.Equal(42L, new WireReader(under.ToArray()).ReadInt64());

        using var over = WireWriter.WithExactSize(100);
        over.WriteInt32(5);
        Assert.Equal(4, over.ToArray().Length);
    }

    [Fact]
    public void Reading_past_the_end_throws_WireFormatException()
    {
        Assert.Throws<WireFormatException>(() => new WireReader(new byte[3]).ReadInt32());
        Assert.Throws<WireFormatException>(() => new WireReader(ReadOnlyMemory<byte>.Empty).ReadByte());
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(5)]
    [InlineData(-2)]
    [InlineData(int.MinValue)]
    public void Length_prefix_that_does_not_fit_throws_WireFormatException(int length)
    {
        using var w = new WireWriter();
        w.WriteInt32(length);
        w.WriteInt32(0); // 4 bytes remain after the prefix
        var bytes = w.ToArray();

        Assert.Throws<WireFormatException>(() => new WireReader(bytes).ReadString());
        Assert.Throws<WireFormatException>(() => new WireReader(bytes).ReadBytesAsMemory());
        Assert.Throws<WireFormatException>(() => new WireReader(bytes).ReadNullableBytes());
    }

    [Fact]
    public void Null_where_bytes_are_required_throws_WireFormatException()
    {
        using var w = new WireWriter();
        w.WriteNullableBytes(null);
        Assert.Throws<WireFormatException>(() => new WireReader(w.ToArray()).ReadBytesAsMemory());
    }

    [Fact]
    public void Count_larger_than_the_remaining_bytes_can_hold_throws_before_allocating()
    {
        using var w = new WireWriter();
        w.WriteInt32(3);
        w.WriteInt64(0); // 8 bytes: room for three 1-byte items but not three 4-byte ones
        var bytes = w.ToArray();

        Assert.Equal(3, new WireReader(bytes).ReadCount(1));
        Assert.Throws<WireFormatException>(() => new WireReader(bytes).ReadCount(4));
        Assert.Throws<WireFormatException>(() => new WireReader(bytes).ReadStringList());
        Assert.Throws<WireFormatException>(() => new WireReader(bytes).ReadStringMap());
        Assert.Throws<WireFormatException>(() => new WireReader(new byte[] { 0xFF, 0xFF, 0xFF, 0xFE }).ReadCount());
    }

    [Fact]
    public void Duplicate_map_key_throws_WireFormatException()
    {
        using var w = new WireWriter();
        w.WriteCount(2);
        w.WriteString("k");
        w.WriteString("1");
        w.WriteString("k");
        w.WriteString("2");
        Assert.Throws<WireFormatException>(() => new WireReader(w.ToArray()).ReadStringMap());
    }

    [Fact]
    public void Trailing_bytes_fail_EnsureEnd()
    {
        var r = new WireReader(new byte[5]);
        r.ReadInt32();
        Assert.Equal(4, r.Position);
        Assert.Throws<WireFormatException>(() => r.EnsureEnd());
    }

    [Fact]
    public void Negative_count_is_refused_by_the_writer()
    {
        using var w = new WireWriter();
        Assert.Throws<ArgumentOutOfRangeException>(() => w.WriteCount(-1));
    }
}
