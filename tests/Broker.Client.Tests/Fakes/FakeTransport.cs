// A scripted IBrokerTransport: records what clients send and answers like a node would, or when a test says so.
using Broker.Client.Connection;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;

namespace Broker.Client.Tests.Fakes;

internal sealed class FakeTransport : IBrokerTransport
{
    private readonly object _sync = new();
    private readonly Dictionary<string, int> _topics = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, int), long> _nextOffsets = [];
    private readonly List<ProduceRequest> _produced = [];
    private readonly List<TaskCompletionSource<object>> _pending = [];
    private readonly List<IBrokerRequest> _requests = [];

    /// <summary>Answer produce requests at once with consecutive offsets per partition; off = tests complete them.</summary>
    public bool AutoReply { get; set; } = true;

    /// <summary>Answers InitProducerId instead of handing out ids 1000, 1001, ... (to make it fail, for instance).</summary>
    public Func<object>? InitProducerId { get; set; }

    private long _producerIds = 1000;

    private long NextProducerId() => Interlocked.Increment(ref _producerIds) - 1;

    /// <summary>Answers fetch and list-offsets requests (a Task, so "nothing yet" can take a while like a long poll).</summary>
    public Func<IBrokerRequest, Task<object>>? Handler { get; set; }

    public FakeTransport WithTopic(string name, int partitions)
    {
        lock (_sync) _topics[name] = partitions;
        return this;
    }

    public IReadOnlyList<ProduceRequest> Produced
    {
        get { lock (_sync) return [.. _produced]; }
    }

    public IReadOnlyList<IBrokerRequest> Requests
    {
        get { lock (_sync) return [.. _requests]; }
    }

    /// <summary>Waits until at least <paramref name="count"/> produce requests were sent; false on timeout.</summary>
    public bool WaitForProduced(int count, TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_sync)
        {
            while (_produced.Count < count)
            {
                var remaining = deadline - Environment.TickCount64;
                if (remaining <= 0) return false;
                Monitor.Wait(_sync, (int)remaining);
            }
            return true;
        }
    }

    /// <summary>Completes the n-th manually held produce request (0-based, in send order) with the reply a node would give.</summary>
    public void Reply(int index) => Reply(index, r => Answer(r));

    public void Reply(int index, Func<ProduceRequest, object> reply)
    {
        ProduceRequest request;
        TaskCompletionSource<object> pending;
        lock (_sync)
        {
            request = _produced[index];
            pending = _pending[index];
        }
        pending.TrySetResult(reply(request));
    }

    /// <summary>Fails the n-th held produce request as the real transport does (timeout, broker gone).</summary>
    public void Fail(int index, Exception error)
    {
        TaskCompletionSource<object> pending;
        lock (_sync) pending = _pending[index];
        pending.TrySetException(error);
    }

    public Task<object> Send(IBrokerRequest request, TimeSpan timeout)
    {
        var produce = (ProduceRequest)request;
        lock (_sync)
        {
            _requests.Add(request);
            _produced.Add(produce);
            var pending = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending.Add(pending);
            Monitor.PulseAll(_sync);
            if (AutoReply) pending.TrySetResult(Answer(produce));
            return pending.Task;
        }
    }

    public void SendOneWay(IBrokerRequest request)
    {
        lock (_sync)
        {
            _requests.Add(request);
            _produced.Add((ProduceRequest)request);
            _pending.Add(new TaskCompletionSource<object>());
            Monitor.PulseAll(_sync);
        }
    }

    public async Task<TResponse> RequestAsync<TResponse>(IBrokerRequest request, bool idempotent, CancellationToken cancellationToken = default)
        where TResponse : class, IBrokerResponse
    {
        lock (_sync) _requests.Add(request);
        object reply = request switch
        {
            MetadataRequest m => Metadata(m),
            InitProducerIdRequest when InitProducerId is not null => InitProducerId(),
            InitProducerIdRequest => new InitProducerIdResponse(ErrorCode.None, null, NextProducerId(), 0),
            _ when Handler is not null => await Handler(request).WaitAsync(cancellationToken),
            _ => new ErrorResponse(ErrorCode.InvalidRequest, $"fake transport has no answer for {request.GetType().Name}"),
        };
        return reply switch
        {
            TResponse typed => typed,
            ErrorResponse e => throw new BrokerException(e.Error, e.ErrorMessage ?? ""),
            _ => throw new InvalidOperationException($"fake answered {reply.GetType().Name} to {request.GetType().Name}"),
        };
    }

    /// <summary>What a node answers: each batch gets the partition's next offset.</summary>
    public ProduceResponse Answer(ProduceRequest request)
    {
        var results = new ProducePartitionResult[request.Partitions.Count];
        lock (_sync)
        {
            for (var i = 0; i < results.Length; i++)
            {
                var part = request.Partitions[i];
                RecordBatch.TryReadHeader(part.Batch.Span, out var header);
                _nextOffsets.TryGetValue((part.Topic, part.Partition), out var next);
                _nextOffsets[(part.Topic, part.Partition)] = next + header.RecordCount;
                results[i] = new ProducePartitionResult(part.Topic, part.Partition, ErrorCode.None, null, next);
            }
        }
        return new ProduceResponse(results);
    }

    private MetadataResponse Metadata(MetadataRequest request)
    {
        var topics = new List<TopicMetadata>();
        lock (_sync)
        {
            foreach (var name in request.Topics ?? [.. _topics.Keys])
            {
                if (_topics.TryGetValue(name, out var count))
                {
                    var partitions = new List<PartitionMetadata>();
                    for (var p = 0; p < count; p++) partitions.Add(new PartitionMetadata(p, "fake", 0, 0, ErrorCode.None, null));
                    topics.Add(new TopicMetadata(name, "id-" + name, ErrorCode.None, null, 1, new Dictionary<string, string>(), partitions));
                }
                else
                {
                    topics.Add(new TopicMetadata(name, "", ErrorCode.UnknownTopic, $"topic '{name}' does not exist", 0, new Dictionary<string, string>(), []));
                }
            }
        }
        return new MetadataResponse([], topics);
    }

    public void Dispose()
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
