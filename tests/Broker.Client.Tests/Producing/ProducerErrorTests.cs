using Broker.Client.Tests.Fakes;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Xunit;
using static Broker.Client.Tests.Fakes.Batches;

namespace Broker.Client.Tests.Producing;

/// <summary>How the producer reports failures: typed, per record, before sending where it can.</summary>
public sealed class ProducerErrorTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Record_larger_than_MaxRequestSize_fails_with_RecordTooLarge_and_is_never_sent()
    {
        var transport = new FakeTransport().WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { MaxRequestSize = 4096, LingerMs = 0 }, transport);
        var error = await Assert.ThrowsAsync<BrokerException>(() => producer.ProduceAsync("t", new Message { Value = new byte[5000] }));
        Assert.Equal(ErrorCode.RecordTooLarge, error.Error);
        Assert.Contains("MaxRequestSize", error.Message);

        BrokerException? callbackError = null;
        producer.Produce("t", new Message { Key = new byte[3000], Value = new byte[3000] }, (_, e) => callbackError = e);
        Assert.Equal(ErrorCode.RecordTooLarge, callbackError?.Error);

        await producer.FlushAsync().WaitAsync(Wait);
        Assert.Empty(transport.Produced);
        Assert.DoesNotContain(transport.Requests, r => r is MetadataRequest); // refused before any look-up
    }

    [Fact]
    public async Task Record_larger_than_BatchSize_but_within_MaxRequestSize_is_sent_alone()
    {
        var transport = new FakeTransport().WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { BatchSize = 1000, LingerMs = 0 }, transport);
        var delivered = await producer.ProduceAsync("t", new Message { Value = new byte[50_000] }).WaitAsync(Wait);
        Assert.Equal(0, delivered.Offset);
        Assert.True(Assert.Single(Assert.Single(transport.Produced).Partitions).Batch.Length > 50_000);
    }

    [Fact]
    public async Task Unknown_topic_fails_with_UnknownTopic_and_says_how_to_create_it()
    {
        var transport = new FakeTransport();
        await using var producer = new Producer(new ProducerConfig(), transport);
        var error = await Assert.ThrowsAsync<BrokerException>(() => producer.ProduceAsync("missing", new Message { Value = Bytes("v") }));
        Assert.Equal(ErrorCode.UnknownTopic, error.Error);
        Assert.Contains("broker topics create missing", error.Message);

        BrokerException? callbackError = null;
        producer.Produce("missing", new Message { Value = Bytes("v") }, (_, e) => callbackError = e);
        Assert.Equal(ErrorCode.UnknownTopic, callbackError?.Error);
        Assert.Empty(transport.Produced);
    }

    [Fact]
    public async Task Partition_errors_in_the_reply_fail_only_that_partitions_records()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 2);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 600_000 }, transport);
        var ok = producer.ProduceAsync("t", 0, new Message { Value = Bytes("a") });
        var bad = producer.ProduceAsync("t", 1, new Message { Value = Bytes("b") });
        var flushed = producer.FlushAsync();
        Assert.True(transport.WaitForProduced(1, Wait));
        transport.Reply(0, request => new ProduceResponse(request.Partitions
            .Select(p => p.Partition == 1
                ? new ProducePartitionResult(p.Topic, p.Partition, ErrorCode.CorruptRecord, "CRC mismatch", -1)
                : new ProducePartitionResult(p.Topic, p.Partition, ErrorCode.None, null, 41))
            .ToList()));
        Assert.Equal(41, (await ok.WaitAsync(Wait)).Offset);
        var error = await Assert.ThrowsAsync<BrokerException>(() => bad.WaitAsync(Wait));
        Assert.Equal(ErrorCode.CorruptRecord, error.Error);
        Assert.Equal("CRC mismatch", error.Message);
        await flushed.WaitAsync(Wait);
    }

    [Fact]
    public async Task An_ErrorResponse_fails_every_record_of_the_request_with_its_code()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0 }, transport);
        var result = producer.ProduceAsync("t", new Message { Value = Bytes("v") });
        Assert.True(transport.WaitForProduced(1, Wait));
        transport.Reply(0, _ => new ErrorResponse(ErrorCode.InvalidRequest, "could not read request 'P'"));
        var error = await Assert.ThrowsAsync<BrokerException>(() => result.WaitAsync(Wait));
        Assert.Equal(ErrorCode.InvalidRequest, error.Error);
        Assert.Contains("could not read", error.Message);
    }

    [Fact]
    public async Task After_a_failed_batch_the_partitions_queued_batches_fail_in_order_without_being_sent()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        // Without idempotence nothing is retried: the error reaches the caller (IdempotentProducerTests: with it, it is retried).
        await using var producer = new Producer(new ProducerConfig { BatchSize = 900, LingerMs = 0, MaxInFlight = 1, MaxRequestSize = 1024, EnableIdempotence = false }, transport);
        var reports = new List<(int Index, ErrorCode Error)>();
        for (var i = 0; i < 4; i++)
        {
            var index = i;
            producer.Produce("t", new Message { Value = new byte[800] }, (_, e) => { lock (reports) reports.Add((index, e?.Error ?? ErrorCode.None)); });
        }
        Assert.True(transport.WaitForProduced(1, Wait));
        transport.Reply(0, r => new ProduceResponse([new ProducePartitionResult("t", 0, ErrorCode.RequestTimedOut, "partition did not confirm", -1)]));
        await producer.FlushAsync().WaitAsync(Wait);
        Assert.Equal([(0, ErrorCode.RequestTimedOut), (1, ErrorCode.RequestTimedOut), (2, ErrorCode.RequestTimedOut), (3, ErrorCode.RequestTimedOut)], reports);
        Assert.Single(transport.Produced);

        // The partition works again for records produced afterwards.
        var after = producer.ProduceAsync("t", new Message { Value = Bytes("later") });
        Assert.True(transport.WaitForProduced(2, Wait));
        transport.Reply(1);
        Assert.Equal(0, (await after.WaitAsync(Wait)).Offset);
    }

    [Fact]
    public async Task A_transport_failure_fails_the_records_with_its_code()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0, EnableIdempotence = false }, transport);
        var result = producer.ProduceAsync("t", new Message { Value = Bytes("v") });
        Assert.True(transport.WaitForProduced(1, Wait));
        transport.Fail(0, new BrokerException(ErrorCode.RequestTimedOut, "no reply within 30s"));
        var error = await Assert.ThrowsAsync<BrokerException>(() => result.WaitAsync(Wait));
        Assert.Equal(ErrorCode.RequestTimedOut, error.Error);
    }

    [Fact]
    public async Task Cancelled_token_cancels_a_record_not_yet_accepted()
    {
        var transport = new FakeTransport().WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig(), transport);
        var task = producer.ProduceAsync("t", new Message { Value = Bytes("v") }, new CancellationToken(canceled: true));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.Empty(transport.Produced);
    }

    [Fact]
    public void Invalid_settings_fail_with_InvalidConfig()
    {
        var transport = new FakeTransport();
        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<BrokerException>(() => new Producer(new ProducerConfig { MaxInFlight = 0 }, transport)).Error);
        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<BrokerException>(() => new Producer(new ProducerConfig { LingerMs = -1 }, transport)).Error);
        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<BrokerException>(() => new Producer(new ProducerConfig { Acks = (Acks)7 }, transport)).Error);
        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<BrokerException>(() => new Producer(new ProducerConfig { MaxRequestSize = 10 }, transport)).Error);
    }

    [Fact]
    public async Task Produce_after_dispose_throws_ObjectDisposedException()
    {
        var producer = new Producer(new ProducerConfig(), new FakeTransport().WithTopic("t", 1));
        await producer.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => { _ = producer.ProduceAsync("t", new Message()); });
    }

    [Fact]
    public async Task Dispose_flushes_what_was_produced()
    {
        var transport = new FakeTransport().WithTopic("t", 1);
        var producer = new Producer(new ProducerConfig { LingerMs = 600_000 }, transport);
        var result = producer.ProduceAsync("t", new Message { Value = Bytes("v") });
        producer.Dispose();
        Assert.Equal(0, (await result.WaitAsync(Wait)).Offset);
    }

    [Fact]
    public async Task Dispose_fails_records_the_broker_never_confirmed()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        var producer = new Producer(new ProducerConfig { LingerMs = 0, RequestTimeout = TimeSpan.FromMilliseconds(300) }, transport);
        var result = producer.ProduceAsync("t", new Message { Value = Bytes("v") });
        Assert.True(transport.WaitForProduced(1, Wait));
        await producer.DisposeAsync();
        var error = await Assert.ThrowsAsync<BrokerException>(() => result.WaitAsync(Wait));
        Assert.Equal(ErrorCode.RequestTimedOut, error.Error);
        transport.Reply(0); // a late reply is ignored
    }

    [Fact]
    public async Task Flush_from_a_delivery_callback_is_refused_instead_of_deadlocking()
    {
        var transport = new FakeTransport().WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0 }, transport);
        var failure = new TaskCompletionSource<Exception?>();
        producer.Produce("t", new Message { Value = Bytes("v") }, (_, _) =>
        {
            try
            {
                producer.Flush(TimeSpan.FromSeconds(1));
                failure.SetResult(null);
            }
            catch (Exception ex)
            {
                failure.SetResult(ex);
            }
        });
        Assert.IsType<InvalidOperationException>(await failure.Task.WaitAsync(Wait));
    }

    [Fact]
    public async Task FlushAsync_awaited_in_code_running_inside_a_delivery_callback_completes()
    {
        var transport = new FakeTransport().WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0 }, transport);
        var first = new TaskCompletionSource(); // continuations run inline, i.e. inside the callback
        producer.Produce("t", new Message { Value = Bytes("a") }, (_, _) => first.TrySetResult());
        await first.Task.WaitAsync(Wait);
        producer.Produce("t", new Message { Value = Bytes("b") }, (_, _) => { });
        await producer.FlushAsync().WaitAsync(Wait);
        Assert.Equal(2, Sent(transport.Produced).Sum(b => b.Values.Count));
    }
}
