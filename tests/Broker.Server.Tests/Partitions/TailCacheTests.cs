using Broker.Server.Partitions;
using Xunit;

namespace Broker.Server.Tests.Partitions;

public sealed class TailCacheTests
{
    [Fact]
    public void Keeps_the_newest_batches_within_its_byte_bound()
    {
        var cache = new TailCache(maxBytes: 250);
        for (var i = 0; i < 5; i++) cache.Add(i * 10, new byte[100]);
        Assert.Equal(200, cache.Bytes);
        Assert.Equal(30, cache.FirstOffset);
        Assert.Null(cache.Read(20, 1000));
    }

    [Fact]
    public void Keeps_a_single_batch_larger_than_the_bound()
    {
        var cache = new TailCache(maxBytes: 10);
        cache.Add(0, new byte[100]);
        Assert.Equal(0, cache.FirstOffset);
        Assert.Equal(100, cache.Read(0, 1)!.Length);
    }

    [Fact]
    public void Read_concatenates_whole_batches_up_to_max_bytes_and_at_least_one()
    {
        var cache = new TailCache(maxBytes: 10_000);
        cache.Add(0, [1, 1]);
        cache.Add(2, [2, 2, 2]);
        cache.Add(5, [3]);
        Assert.Equal(new byte[] { 2, 2, 2, 3 }, cache.Read(2, 4));
        Assert.Equal(new byte[] { 1, 1 }, cache.Read(0, 1));
    }

    [Fact]
    public void TrimBelow_drops_batches_under_the_new_log_start()
    {
        var cache = new TailCache(maxBytes: 10_000);
        cache.Add(0, new byte[5]);
        cache.Add(5, new byte[5]);
        cache.TrimBelow(5);
        Assert.Equal(5, cache.FirstOffset);
        Assert.Equal(5, cache.Bytes);
    }
}
