// Walking concatenated batches as a fetch response carries them, including a truncated tail.
using System.Buffers.Binary;
using Broker.Protocol.Records;
using Xunit;

namespace Broker.Protocol.Tests.Records;

public class RecordBatchTryReadNextTests
{
    [Fact]
    public void Walks_concatenated_batches_in_order()
    {
        var a = BatchSamples.Batch(2, baseOffset: 0);
        var b = BatchSamples.Batch(3, baseOffset: 2);
        var c = BatchSamples.Batch(1, baseOffset: 5);
        ReadOnlyMemory<byte> buffer = BatchSamples.Concat(a, b, c);
        var position = 0;
        var seen = new List<(long BaseOffset, int Count, int Length)>();

        while (RecordBatch.TryReadNext(buffer, ref position, out var batch, out var header))
        {
            Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(batch.Span, out _));
            seen.Add((header.BaseOffset, header.RecordCount, batch.Length));
        }

        Assert.Equal([(0L, 2, a.Length), (2L, 3, b.Length), (5L, 1, c.Length)], seen);
        Assert.Equal(buffer.Length, position);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(30)]
    [InlineData(61)]
    [InlineData(62)]
    public void Truncated_trailing_batch_ends_the_walk_without_consuming_it(int keep)
    {
        var a = BatchSamples.Batch(2);
        var b = BatchSamples.Batch(3, baseOffset: 2);
        ReadOnlyMemory<byte> buffer = BatchSamples.Concat(a, b[..Math.Min(keep, b.Length - 1)]);
        var position = 0;

        Assert.True(RecordBatch.TryReadNext(buffer, ref position, out var first, out _));
        Assert.Equal(a.Length, first.Length);
        Assert.False(RecordBatch.TryReadNext(buffer, ref position, out var none, out _));
        Assert.True(none.IsEmpty);
        Assert.Equal(a.Length, position);
    }

    [Fact]
    public void Empty_buffer_has_no_batches()
    {
        var position = 0;
        Assert.False(RecordBatch.TryReadNext(ReadOnlyMemory<byte>.Empty, ref position, out _, out _));
        Assert.Equal(0, position);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(int.MaxValue - 11)]
    [InlineData(-1)]
    [InlineData(48)] // one less than a header's worth after the length field
    public void Garbage_batch_length_stops_the_walk_instead_of_throwing(int batchLength)
    {
        var bytes = BatchSamples.Batch(1);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), batchLength);
        var position = 0;

        Assert.False(RecordBatch.TryReadNext(bytes, ref position, out _, out _));
        Assert.Equal(0, position);
    }

    [Fact]
    public void Position_past_the_end_returns_false()
    {
        var bytes = BatchSamples.Batch(1);
        var position = bytes.Length + 5;

        Assert.False(RecordBatch.TryReadNext(bytes, ref position, out _, out _));
    }
}
