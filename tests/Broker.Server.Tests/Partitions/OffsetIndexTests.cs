using Broker.Server.Partitions;
using Xunit;

namespace Broker.Server.Tests.Partitions;

public sealed class OffsetIndexTests
{
    private static OffsetIndex IndexOf(params int[] counts)
    {
        var index = new OffsetIndex(capacity: 2);
        long offset = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            index.Append(offset, counts[i], sequenceNr: i + 1, maxTimestamp: 1000 + i, size: 100 * (i + 1));
            offset += counts[i];
        }
        return index;
    }

    [Fact]
    public void Find_returns_the_batch_that_holds_an_offset()
    {
        var index = IndexOf(3, 1, 5); // offsets 0-2, 3, 4-8
        Assert.Equal(0, index.Find(0));
        Assert.Equal(0, index.Find(2));
        Assert.Equal(1, index.Find(3));
        Assert.Equal(2, index.Find(8));
        Assert.Equal(-1, index.Find(9));
        Assert.Equal(-1, index.Find(-1));
    }

    [Fact]
    public void ReadSize_counts_whole_batches_up_to_max_bytes_below_the_end_and_always_the_first()
    {
        var index = IndexOf(3, 1, 5); // offsets 0-2 (100 bytes), 3 (200), 4-8 (300)
        Assert.Equal((100L, 600L), index.ReadSize(1, 1000, endOffset: 9));
        Assert.Equal((100L, 300L), index.ReadSize(0, 599, endOffset: 9)); // the third would pass max bytes
        Assert.Equal((100L, 300L), index.ReadSize(0, 1000, endOffset: 4)); // the third starts at the end
        Assert.Equal((200L, 200L), index.ReadSize(3, 10, endOffset: 9));   // larger than max bytes, but the first
        Assert.Equal((0L, 0L), index.ReadSize(9, 1000, endOffset: 9));
    }

    [Fact]
    public void RemoveFirst_drops_batches_and_their_bytes()
    {
        var index = IndexOf(3, 1, 5);
        Assert.Equal(600, index.TotalBytes);
        index.RemoveFirst(2);
        Assert.Equal(1, index.Count);
        Assert.Equal(300, index.TotalBytes);
        Assert.Equal(4, index.BaseOffset(0));
        Assert.Equal(3, index.SequenceNr(0));
        Assert.Equal(-1, index.Find(3));
        Assert.Equal(0, index.Find(6));
    }

    [Fact]
    public void Growing_after_trims_keeps_every_entry_in_order()
    {
        var index = new OffsetIndex(capacity: 4);
        long next = 0;
        for (var round = 0; round < 50; round++)
        {
            for (var i = 0; i < 7; i++) { index.Append(next, 2, next + 1, next, 10); next += 2; }
            index.RemoveFirst(5);
        }
        for (var i = 1; i < index.Count; i++) Assert.Equal(index.NextOffsetAfter(i - 1), index.BaseOffset(i));
        Assert.Equal(next, index.NextOffsetAfter(index.Count - 1));
        Assert.Equal(index.Count * 10, index.TotalBytes);
    }
}
