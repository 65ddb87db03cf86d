using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Kafka;
using Xunit;

namespace Broker.Server.Tests.Kafka;

public sealed class ParkedFetchesTests
{
    private static FetchResponse Answer(int records) =>
        new("t", 0, ErrorCode.None, null, 10, 0, new byte[records]);

    [Fact]
    public void A_wait_still_parked_at_the_same_offset_is_taken_over_not_doubled()
    {
        var parked = new ParkedFetches();
        var pending = new TaskCompletionSource<FetchResponse>();
        var parks = 0;
        Task<FetchResponse> Park()
        {
            parks++;
            return pending.Task;
        }

        var first = parked.GetOrPark("t", 0, 5, Park);
        var second = parked.GetOrPark("t", 0, 5, Park);
        Assert.Same(first, second);
        Assert.Equal(1, parks);
        Assert.NotSame(first, parked.GetOrPark("t", 0, 6, () => new TaskCompletionSource<FetchResponse>().Task)); // another offset, another wait
    }

    [Fact]
    public void A_wait_that_ended_with_data_is_used_by_the_next_fetch_and_one_that_ended_empty_is_replaced()
    {
        var parked = new ParkedFetches();
        var withData = Task.FromResult(Answer(3));
        Assert.Same(withData, parked.GetOrPark("t", 0, 5, () => withData));
        Assert.Same(withData, parked.GetOrPark("t", 0, 5, () => throw new InvalidOperationException("should not park again")));

        var empty = Task.FromResult(Answer(0));
        parked.GetOrPark("t", 1, 5, () => empty);
        var fresh = new TaskCompletionSource<FetchResponse>().Task;
        Assert.Same(fresh, parked.GetOrPark("t", 1, 5, () => fresh));
    }

    [Fact]
    public void Used_and_pruned_waits_are_forgotten()
    {
        var parked = new ParkedFetches();
        var done = Task.FromResult(Answer(1));
        parked.GetOrPark("t", 0, 5, () => done);
        parked.Used("t", 0, 5);
        var next = Task.FromResult(Answer(2));
        Assert.Same(next, parked.GetOrPark("t", 0, 5, () => next));

        var stillWanted = Task.FromResult(Answer(4));
        parked.GetOrPark("t", 1, 7, () => stillWanted);
        parked.Prune([("t", 1, 7)]);
        var replacement = Task.FromResult(Answer(9));
        Assert.Same(replacement, parked.GetOrPark("t", 0, 5, () => replacement)); // pruned: not wanted any more
        Assert.Same(stillWanted, parked.GetOrPark("t", 1, 7, () => replacement)); // kept: still asked for
    }
}
