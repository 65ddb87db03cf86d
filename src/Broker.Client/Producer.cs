// Public producer: picks partitions, appends records to the RecordAccumulator; its Sender reports deliveries.
using Broker.Client.Connection;
using Broker.Client.Producing;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Protocol.Records.Compression;

namespace Broker.Client;

/// <summary>
/// Sends records to topics. Records are batched per partition (<see cref="ProducerConfig.BatchSize"/>,
/// <see cref="ProducerConfig.LingerMs"/>) and sent pipelined (<see cref="ProducerConfig.MaxInFlight"/>);
/// records of one partition are stored and reported in the order they were produced. Thread-safe.
/// The first record for a topic blocks while the topic's partition count is looked up (once per topic).
/// </summary>
/// <example>
/// <code>
/// await using var producer = new Producer(new ProducerConfig { BootstrapServers = "127.0.0.1:9190" });
/// var result = await producer.ProduceAsync("orders", new Message { Key = "c-1"u8.ToArray(), Value = "hello"u8.ToArray() });
/// </code>
/// </example>
public sealed class Producer : IDisposable, IAsyncDisposable
{
    private readonly ProducerConfig _config;
    private readonly IBrokerTransport _transport;
    private readonly RecordAccumulator _accumulator;
    private readonly Sender _sender;
    private int _disposed;

    /// <summary>Creates a producer; connects lazily on the first record. Throws <see cref="BrokerException"/> (InvalidConfig) for bad settings.</summary>
    public Producer(ProducerConfig config) : this(Validate(config), new GatewayConnection(config))
    {
    }

    internal Producer(ProducerConfig config, IBrokerTransport transport)
    {
        _config = Validate(config);
        _transport = transport;
        _accumulator = new RecordAccumulator(config);
        _sender = new Sender(config, _accumulator, transport);
    }

    /// <summary>
    /// Produces one record and completes when it is stored (or sent, with <see cref="Acks.None"/>). The partition
    /// is murmur2(key) as in Kafka, or for keyless records a sticky partition that changes with each batch.
    /// The task fails with <see cref="BrokerException"/>: <c>UnknownTopic</c>, <c>RecordTooLarge</c> (never sent),
    /// <c>RequestTimedOut</c>, <c>BrokerNotAvailable</c>, ... Cancelling only works until the record is accepted.
    /// </summary>
    public Task<DeliveryResult> ProduceAsync(string topic, Message message, CancellationToken cancellationToken = default) =>
        ProduceAsyncCore(topic, -1, message, cancellationToken);

    /// <summary>Produces one record to the given partition; see <see cref="ProduceAsync(string, Message, CancellationToken)"/>.</summary>
    public Task<DeliveryResult> ProduceAsync(string topic, int partition, Message message, CancellationToken cancellationToken = default)
    {
        if (partition < 0) return Task.FromException<DeliveryResult>(NoSuchPartition(topic, partition, null));
        return ProduceAsyncCore(topic, partition, message, cancellationToken);
    }

    /// <summary>
    /// Produces one record without a Task: <paramref name="onDelivery"/> is called once with the result or the
    /// error, in produce order per partition, on a library thread (or at once on this thread for errors found
    /// before sending, such as RecordTooLarge or UnknownTopic). Keep it short: the next reports wait for it. The
    /// blocking <see cref="Flush(TimeSpan)"/> and <see cref="Dispose"/> are refused inside it (they would wait for
    /// it); FlushAsync and DisposeAsync are fine. Exceptions it throws are written to stderr and otherwise ignored.
    /// </summary>
    public void Produce(string topic, Message message, Action<DeliveryResult?, BrokerException?> onDelivery)
    {
        ArgumentNullException.ThrowIfNull(onDelivery);
        Enqueue(topic, -1, message, Delivery.Of(onDelivery), CancellationToken.None);
    }

    /// <summary>Produces one record to the given partition with a callback; see <see cref="Produce(string, Message, Action{DeliveryResult?, BrokerException?})"/>.</summary>
    public void Produce(string topic, int partition, Message message, Action<DeliveryResult?, BrokerException?> onDelivery)
    {
        ArgumentNullException.ThrowIfNull(onDelivery);
        if (partition < 0)
        {
            Delivery.Of(onDelivery).Fail(NoSuchPartition(topic, partition, null));
            return;
        }
        Enqueue(topic, partition, message, Delivery.Of(onDelivery), CancellationToken.None);
    }


    /// <summary>
    /// Sends everything produced so far at once (ignoring the linger) and completes when all of it is reported.
    /// Safe to await anywhere, also in code that runs inside a delivery callback.
    /// </summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) =>
        _accumulator.FlushAsync().WaitAsync(cancellationToken);

    /// <summary>
    /// Like <see cref="FlushAsync"/>, blocking; throws <see cref="BrokerException"/> (RequestTimedOut) if records are
    /// still pending after <paramref name="timeout"/>. Not from a delivery callback: it would wait for itself.
    /// </summary>
    public void Flush(TimeSpan timeout)
    {
        if (CallbackDelivery.InCallback) throw new InvalidOperationException("Flush(TimeSpan) cannot be called from a delivery callback: it would wait for that callback to return; await FlushAsync instead");
        if (!_accumulator.FlushAsync().Wait(timeout))
            throw new BrokerException(ErrorCode.RequestTimedOut, $"flush did not finish within {timeout.TotalSeconds:0.#}s: {_accumulator.PendingBatches} batches are still waiting for the broker");
    }

    private Task<DeliveryResult> ProduceAsyncCore(string topic, int partition, Message message, CancellationToken cancellationToken)
    {
        var completion = new TaskDelivery();
        Enqueue(topic, partition, message, Delivery.Of(completion), cancellationToken);
        return completion.Task;
    }

    /// <summary>The hot path: everything per record that does not need the lock happens here, then one Append.</summary>
    private void Enqueue(string topic, int partition, Message message, Delivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (cancellationToken.IsCancellationRequested)
        {
            delivery.Cancel(cancellationToken);
            return;
        }

        var key = message.Key;
        var estimate = RecordBatchBuilder.EstimateRecordSize(key?.Length ?? 0, message.Value?.Length ?? 0, message.Headers);
        if (RecordAccumulator.RecordRequestBytes(estimate, topic.Length * 3) > _config.MaxRequestSize)
        {
            delivery.Fail(new BrokerException(ErrorCode.RecordTooLarge,
                $"record of about {estimate} bytes does not fit in a produce request of at most {_config.MaxRequestSize} bytes (ProducerConfig.MaxRequestSize); send smaller records, or raise MaxRequestSize and the topic's max.message.bytes"));
            return;
        }

        try
        {
            var state = _accumulator.FindTopic(topic) ?? LoadTopic(topic, cancellationToken);
            if (partition >= state.PartitionCount)
            {
                delivery.Fail(NoSuchPartition(topic, partition, state.PartitionCount));
                return;
            }
            if (partition < 0 && key is not null) partition = KeyPartitioner.Partition(key, state.PartitionCount);
            var timestamp = (message.Timestamp ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds();
            _accumulator.Append(state, partition, message, timestamp, estimate, delivery, cancellationToken);
        }
        catch (BrokerException error)
        {
            delivery.Fail(error);
        }
        catch (OperationCanceledException)
        {
            delivery.Cancel(cancellationToken);
        }
    }

    /// <summary>Looks up a topic's partition count, blocking (once per topic, as Kafka's producer does), so records stay in call order.</summary>
    private TopicState LoadTopic(string topic, CancellationToken cancellationToken)
    {
        var response = _transport.RequestAsync<MetadataResponse>(new MetadataRequest([topic]), idempotent: true, cancellationToken)
            .GetAwaiter().GetResult();
        foreach (var metadata in response.Topics)
        {
            if (metadata.Name != topic) continue;
            if (metadata.Error == ErrorCode.UnknownTopic) throw UnknownTopic(topic);
            if (metadata.Error != ErrorCode.None) throw BrokerErrors.From(metadata.Error, metadata.ErrorMessage);
            if (metadata.Partitions.Count == 0) throw new BrokerException(ErrorCode.InvalidPartitions, $"topic '{topic}' has no partitions");
            return _accumulator.AddTopic(topic, metadata.Partitions.Count);
        }
        throw UnknownTopic(topic);
    }

    private static BrokerException UnknownTopic(string topic) =>
        new(ErrorCode.UnknownTopic, ErrorText.UnknownTopic(topic));

    private static BrokerException NoSuchPartition(string topic, int partition, int? count) =>
        new(ErrorCode.UnknownPartition, count is { } n
            ? ErrorText.UnknownPartition(topic, n, partition)
            : $"partition {partition} of topic '{topic}' does not exist: partitions are numbered from 0");

    private static ProducerConfig Validate(ProducerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        static BrokerException Invalid(string what) => new(ErrorCode.InvalidConfig, what);
        if (!Enum.IsDefined(config.Acks)) throw Invalid($"Acks must be None (0), Leader (1) or All (-1), got {(short)config.Acks}");
        if (config.LingerMs < 0) throw Invalid($"LingerMs must be 0 or more, got {config.LingerMs}");
        if (config.BatchSize < 1) throw Invalid($"BatchSize must be positive, got {config.BatchSize}");
        if (config.MaxInFlight < 1) throw Invalid($"MaxInFlight must be at least 1, got {config.MaxInFlight}");
        if (config.MaxRequestSize < 1024) throw Invalid($"MaxRequestSize must be at least 1024 bytes, got {config.MaxRequestSize}");
        if (config.EnableIdempotence == true && config.Acks != Acks.All)
            throw Invalid($"EnableIdempotence needs Acks.All (a retried batch is recognised only once every in-sync replica has the first), got Acks.{config.Acks}; set Acks = Acks.All or EnableIdempotence = false");
        if (config.DeliveryTimeout < config.RequestTimeout) throw Invalid($"DeliveryTimeout ({config.DeliveryTimeout}) must be at least RequestTimeout ({config.RequestTimeout})");
        if (config.RetryBackoffMs < 0) throw Invalid($"RetryBackoffMs must be 0 or more, got {config.RetryBackoffMs}");
        if ((int)config.CompressionType > CompressionCodecs.Max) throw Invalid($"CompressionType must be None, Gzip, Snappy, Lz4 or Zstd, got {(int)config.CompressionType}");
        if (config.BufferMemory < config.MaxRequestSize) throw Invalid($"BufferMemory ({config.BufferMemory}) must be at least MaxRequestSize ({config.MaxRequestSize})");
        return config;
    }

    /// <summary>Flushes (up to <see cref="ClientConfig.RequestTimeout"/>), fails what is still pending, and disconnects.</summary>
    public void Dispose()
    {
        if (CallbackDelivery.InCallback) throw new InvalidOperationException("Dispose() cannot be called from a delivery callback: it would wait for that callback to return; use DisposeAsync");
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            _accumulator.FlushAsync().Wait(_config.RequestTimeout);
        }
        finally
        {
            _sender.Close();
            _transport.Dispose();
        }
    }

    /// <summary>As <see cref="Dispose"/> (flush up to <see cref="ClientConfig.RequestTimeout"/>, fail what is left, disconnect), without blocking the calling thread.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            await _accumulator.FlushAsync().WaitAsync(_config.RequestTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Close fails what is left, with a message saying so.
        }
        finally
        {
            _sender.Close();
            await _transport.DisposeAsync().ConfigureAwait(false);
        }
    }
}
