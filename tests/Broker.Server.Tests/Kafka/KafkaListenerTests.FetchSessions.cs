using System.Net.Sockets;
using Broker.Kafka.Messages;
using Xunit;

namespace Broker.Server.Tests.Kafka;

// Fetch sessions (KIP-227) over a real socket: a session is opened, continued incrementally (only what changed comes
// back), refused with Kafka's codes for a wrong id or epoch, told to forget a partition, and closed. And a response whose
// records are large enough to be spliced in (sent from where they are stored, not copied into the frame).
public sealed partial class KafkaListenerTests
{
    private static FetchRequest SessionFetch(int sessionId, int epoch, params (string Topic, int Partition, long Offset)[] partitions) => new()
    {
        MaxWaitMs = 0, MinBytes = 1, MaxBytes = 1 << 20, SessionId = sessionId, SessionEpoch = epoch,
        Topics = [.. partitions.GroupBy(p => p.Topic).Select(t => new FetchRequest.FetchTopic
        {
            Topic = t.Key,
            Partitions = [.. t.Select(p => new FetchRequest.FetchPartition { Partition = p.Partition, FetchOffset = p.Offset, PartitionMaxBytes = 1 << 20 })],
        })],
    };

    private static async Task<FetchResponse> FetchAsync(Socket socket, int correlationId, FetchRequest request)
    {
        await socket.SendAsync(Frame(FetchRequest.Api, 12, correlationId, request));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        return Parse(body, 12, FetchResponse.Read);
    }

    private static string[] Answered(FetchResponse response) =>
        [.. response.Responses.SelectMany(t => t.Partitions.Select(p => $"{t.Topic}-{p.PartitionIndex}:{Records(p.Records).Count}"))];

    [Fact]
    public async Task A_fetch_session_answers_incremental_fetches_with_only_what_changed()
    {
        CreateTopic("sessions", 2);
        Produce("sessions", 0, Batch(3));
        using var socket = await ConnectAsync();

        var opened = await FetchAsync(socket, 1, SessionFetch(0, 0, ("sessions", 0, 0), ("sessions", 1, 0)));
        Assert.Equal(0, opened.ErrorCode);
        Assert.NotEqual(0, opened.SessionId);
        Assert.Equal(["sessions-0:3", "sessions-1:0"], Answered(opened)); // a full fetch answers every partition
        var id = opened.SessionId;

        // Nothing new anywhere: an empty answer, in the same session.
        var quiet = await FetchAsync(socket, 2, SessionFetch(id, 1, ("sessions", 0, 3)));
        Assert.Equal((0, id), ((int)quiet.ErrorCode, quiet.SessionId));
        Assert.Empty(Answered(quiet));

        // Records arrive on the partition the request did not name: the session still fetches it, and answers only it.
        Produce("sessions", 1, Batch(2));
        var news = await FetchAsync(socket, 3, SessionFetch(id, 2));
        Assert.Equal(["sessions-1:2"], Answered(news));
        Assert.Equal(2, news.Responses[0].Partitions[0].HighWatermark);

        // The epoch already used, and an id the node never gave.
        var replayed = await FetchAsync(socket, 4, SessionFetch(id, 2));
        Assert.Equal((71, 0), ((int)replayed.ErrorCode, replayed.SessionId)); // INVALID_FETCH_SESSION_EPOCH
        var unknown = await FetchAsync(socket, 5, SessionFetch(id ^ 0x5a5a5a, 1));
        Assert.Equal(70, unknown.ErrorCode); // FETCH_SESSION_ID_NOT_FOUND

        // A forgotten partition is no longer fetched: its new records are not answered.
        var forget = SessionFetch(id, 3, ("sessions", 1, 2));
        forget.ForgottenTopicsData = [new() { Topic = "sessions", Partitions = [1] }];
        Assert.Empty(Answered(await FetchAsync(socket, 6, forget)));
        Produce("sessions", 1, Batch(1));
        Produce("sessions", 0, Batch(1));
        Assert.Equal(["sessions-0:1"], Answered(await FetchAsync(socket, 7, SessionFetch(id, 4))));

        // Epoch -1 closes the session: a sessionless full answer, and the id is gone.
        var closed = await FetchAsync(socket, 8, SessionFetch(id, -1, ("sessions", 0, 4)));
        Assert.Equal((0, 0), ((int)closed.ErrorCode, closed.SessionId));
        Assert.Equal(["sessions-0:0"], Answered(closed));
        Assert.Equal(70, (await FetchAsync(socket, 9, SessionFetch(id, 5))).ErrorCode);
    }
    [Fact]
    public async Task A_fetch_response_with_large_records_arrives_whole_with_its_records_sent_from_where_they_are_stored()
    {
        CreateTopic("large", 2);
        var first = Batch(300, valueSize: 100); // ~40 KiB each: above the 8 KiB from which records are spliced, not copied
        var second = Batch(500, valueSize: 100);
        Produce("large", 0, first);
        Produce("large", 1, second);
        using var socket = await ConnectAsync();

        var fetched = await FetchAsync(socket, 1, SessionFetch(0, -1, ("large", 0, 0), ("large", 1, 0)));
        Assert.Equal(["large-0:300", "large-1:500"], Answered(fetched));
        Assert.Equal(first.Length, fetched.Responses[0].Partitions[0].Records.Length);
        // The connection goes on: the next response follows the spliced one byte-exactly.
        Assert.Equal(["large-1:0"], Answered(await FetchAsync(socket, 2, SessionFetch(0, -1, ("large", 1, 500)))));
    }
}
